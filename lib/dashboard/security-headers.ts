/**
 * The headers every dashboard answer carries. The page runs no inline script and loads nothing
 * from another origin, so the policy can allow only the dashboard's own files; it also keeps the
 * page out of frames (clickjacking on the action buttons).
 *
 * @module
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** Sets the security headers on `headers`; `noStore` for answers that must never be cached (the API, the page). */
export function secure(headers: Headers, noStore: boolean): Headers {
  headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
  headers.set('x-content-type-options', 'nosniff');
  headers.set('referrer-policy', 'same-origin');
  headers.set('x-frame-options', 'DENY');
  headers.set('cross-origin-resource-policy', 'same-origin');
  if (noStore) headers.set('cache-control', 'no-store');
  return headers;
}

/** A JSON answer with the security headers and `cache-control: no-store`. */
export function jsonResponse(body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  const headers = secure(new Headers({ 'content-type': 'application/json; charset=utf-8', ...extra }), true);
  return new Response(JSON.stringify(body), { status, headers });
}
