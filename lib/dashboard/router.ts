/**
 * The dashboard's routes (docs/design/dashboard.md, section 2) and the matching of a request's
 * method and path, relative to the base path, against them.
 *
 * @module
 */
import { HttpError, badRequest } from './http-error.ts';

/** The name of each route; the handler switches on it. */
export type RouteName =
  | 'page'
  | 'asset'
  | 'session'
  | 'overview'
  | 'throughput'
  | 'jobs'
  | 'jobs-count'
  | 'job'
  | 'job-action'
  | 'bulk'
  | 'queue-action'
  | 'cron'
  | 'events';

interface RouteSpec {
  name: RouteName;
  method: 'GET' | 'POST';
  /** Literal segments, `:param` for one segment, a final `*` for the rest. */
  pattern: string;
}

const ROUTES: readonly RouteSpec[] = [
  { name: 'page', method: 'GET', pattern: '/' },
  { name: 'asset', method: 'GET', pattern: '/assets/*' },
  { name: 'session', method: 'GET', pattern: '/api/session' },
  { name: 'overview', method: 'GET', pattern: '/api/overview' },
  { name: 'throughput', method: 'GET', pattern: '/api/throughput' },
  { name: 'jobs', method: 'GET', pattern: '/api/jobs' },
  { name: 'jobs-count', method: 'GET', pattern: '/api/jobs/count' },
  { name: 'job', method: 'GET', pattern: '/api/jobs/:id' },
  { name: 'job-action', method: 'POST', pattern: '/api/jobs/:id/:action' },
  { name: 'bulk', method: 'POST', pattern: '/api/bulk' },
  { name: 'queue-action', method: 'POST', pattern: '/api/queues/:queue/:action' },
  { name: 'cron', method: 'GET', pattern: '/api/cron' },
  { name: 'events', method: 'GET', pattern: '/api/events' },
];

/** A matched route and its decoded parameters (`*` is under `rest`). */
export interface RouteMatch {
  name: RouteName;
  params: Record<string, string>;
  /** A HEAD request, answered as its GET without a body. */
  head: boolean;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
}

function matchPattern(pattern: string, segments: readonly string[]): Record<string, string> | null {
  const parts = segmentsOf(pattern);
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '*') {
      if (i >= segments.length) return null;
      params['rest'] = segments.slice(i).join('/');
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return null;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return null;
  }
  return parts.length === segments.length ? params : null;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('The path has a malformed percent-escape.');
  }
}

/** The route of `method` and `path`; 404 when no route has the path, 405 when none has it for this method. */
export function matchRoute(method: string, path: string): RouteMatch {
  const head = method === 'HEAD';
  const wanted = head ? 'GET' : method;
  const segments = segmentsOf(path);
  // Matched on the raw segments, so an escaped "/" inside a parameter stays inside it.
  const allowed = new Set<string>();
  for (const route of ROUTES) {
    const params = matchPattern(route.pattern, segments);
    if (!params) continue;
    // "/api/jobs/count" is also the shape of "/api/jobs/:id": the literal route is listed first.
    if (route.method !== wanted) {
      allowed.add(route.method);
      continue;
    }
    for (const key of Object.keys(params)) if (key !== 'rest') params[key] = decode(params[key]!);
    return { name: route.name, params, head };
  }
  if (allowed.size > 0) {
    const allow = [...allowed, ...(allowed.has('GET') ? ['HEAD'] : [])].join(', ');
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}.`, { allow });
  }
  throw new HttpError(404, 'NOT_FOUND', 'No such page or API route.');
}
