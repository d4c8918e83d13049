/**
 * Who may use the dashboard that `concordia dashboard` serves. There is no application around it
 * to sign people in, so access rests on two things: where it listens (loopback by default) and,
 * when `CONCORDIA_DASHBOARD_TOKEN` is set, a shared token.
 *
 * A token is accepted three ways, so both a browser and a script can use it:
 * - `Authorization: Bearer <token>`, for scripts and `curl`;
 * - `?token=<token>` on a GET: answered with a redirect to the same address without it, setting
 *   an HttpOnly cookie, so the token leaves the address bar and the browser signs in once;
 * - that cookie, on every later request of the browser.
 *
 * Without a token the dashboard only listens on loopback, and it still checks each request's
 * `Host`: a web page that rebinds its own DNS name to 127.0.0.1 would otherwise be same-origin
 * with the dashboard and could read it and, with the CSRF token from `api/session`, act on jobs.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { DashboardPrincipal } from '../../lib/dashboard/dashboard-options.ts';
import { jsonResponse } from '../../lib/dashboard/security-headers.ts';

/** The principal every request of the standalone dashboard runs as (CSRF tokens and audit events carry it). */
export const CLI_PRINCIPAL = 'cli';

/** The environment variable holding the shared token. */
export const TOKEN_VARIABLE = 'CONCORDIA_DASHBOARD_TOKEN';

/** Shorter tokens are refused at start: the token is all that stands between a network and the jobs. */
export const MIN_TOKEN_LENGTH = 16;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Whether `host` (a name or an address, IPv6 with or without brackets) is this machine's
 * loopback: `localhost`, 127.0.0.0/8, `::1`, or an IPv4-mapped 127.x address.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 0) return false;
  return loopback.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/** Equal-time comparison of two texts of any lengths (digests first, so lengths leak nothing). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The cookie's name. Browsers share cookies between the ports of one host, so the port is part
 * of the name: two dashboards on one machine then keep their own sign-in.
 */
function cookieName(url: URL): string {
  return `concordia_dashboard_${url.port || 'default'}`;
}

function cookieValue(request: Request, name: string): string | null {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function bearer(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  return match ? match[1]! : null;
}

/**
 * Decides each request of the standalone dashboard, as `createDashboard`'s `authorize` hook.
 * `token` is the shared token, or undefined for none (then the server listens on loopback only).
 */
export function standaloneAuthorize(token: string | undefined, basePath: string): (request: Request) => DashboardPrincipal | Response {
  // The cookie holds a value derived from the token, not the token: it is just as good a key
  // to this dashboard, but it needs no escaping and does not show the token in a cookie store.
  const session = token === undefined ? '' : createHmac('sha256', token).update('concordia dashboard session cookie').digest('base64url');
  const unauthorized = (): Response =>
    jsonResponse(
      { error: { code: 'UNAUTHORIZED', message: `This dashboard needs its token (${TOKEN_VARIABLE}): open it once as …/?token=<token> in the browser, or send Authorization: Bearer <token>.` } },
      401,
      { 'www-authenticate': 'Bearer realm="concordia dashboard"' },
    );
  return (request) => {
    const url = new URL(request.url);
    if (token === undefined) {
      if (isLoopbackHost(url.hostname)) return CLI_PRINCIPAL;
      return jsonResponse({ error: { code: 'FORBIDDEN_HOST', message: 'This dashboard has no token, so it only answers requests addressed to localhost or a loopback address.' } }, 403);
    }
    const given = url.searchParams.get('token');
    if (given !== null && (request.method === 'GET' || request.method === 'HEAD')) {
      if (!sameText(given, token)) return unauthorized();
      url.searchParams.delete('token');
      const headers = new Headers({ location: `${url.pathname}${url.search}`, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      // Lax, not Strict: a link to the dashboard followed from another site (a chat message) must
      // arrive signed in. Reads are all that a cross-site navigation can trigger; every action is
      // a POST with the same-origin and CSRF checks.
      headers.append('set-cookie', `${cookieName(url)}=${session}; Path=${basePath || '/'}; HttpOnly; SameSite=Lax`);
      return new Response(null, { status: 303, headers });
    }
    const presented = bearer(request);
    if (presented !== null) return sameText(presented, token) ? CLI_PRINCIPAL : unauthorized();
    const cookie = cookieValue(request, cookieName(url));
    if (cookie !== null && sameText(cookie, session)) return CLI_PRINCIPAL;
    return unauthorized();
  };
}
