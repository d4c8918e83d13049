/**
 * The base path: where the dashboard is mounted, chosen at run time (an option, or Express's
 * mount path per request), never baked into the built page. The page's `<base href>` is set
 * from it on every request, and every URL the page uses is relative to it.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.ts';

/** Path characters allowed in a base path (RFC 3986 `pchar`, with percent-escapes). */
const BASE_PATH = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/;

/**
 * `'/admin/jobs/'` → `'/admin/jobs'`; `'/'` and `''` → `''` (the root). Refuses anything that is
 * not a plain absolute path: no `..`, no empty segment, no query.
 */
export function normalizeBasePath(value: unknown, what = 'basePath'): string {
  if (typeof value !== 'string') throw new InvalidOptionError(`createDashboard: \`${what}\` must be a string such as "/admin/jobs".`);
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed !== '' && (!BASE_PATH.test(trimmed) || trimmed.split('/').some((segment) => segment === '.' || segment === '..'))) {
    throw new InvalidOptionError(`createDashboard: \`${what}\` must be an absolute path such as "/admin/jobs", got ${JSON.stringify(value.slice(0, 80))}.`);
  }
  return trimmed;
}

/**
 * The route part of `pathname` under `base`: the rest after the base path, or the whole path
 * when it does not start with it (a framework already took the mount path off). Always starts
 * with `/`.
 */
export function routePath(pathname: string, base: string): string {
  if (base !== '' && (pathname === base || pathname.startsWith(`${base}/`))) return pathname.slice(base.length) || '/';
  return pathname === '' ? '/' : pathname;
}

/** Escapes text for a double-quoted HTML attribute. */
export function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
