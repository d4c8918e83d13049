/**
 * The errors the dashboard answers with: an HTTP status and a stable code the page can branch on.
 *
 * @module
 */

/**
 * The codes of the dashboard's JSON errors (`{ error: { code, message } }`):
 * - 400 `INVALID_REQUEST` (a bad filter, id, limit, cursor or body);
 * - 401 `UNAUTHORIZED`;
 * - 403 `READ_ONLY`, `CROSS_ORIGIN` (not same-origin), `CSRF_TOKEN_MISSING`, `CSRF_TOKEN_INVALID`;
 * - 404 `NOT_FOUND` (no such route, job or asset);
 * - 405 `METHOD_NOT_ALLOWED`; 413 `BODY_TOO_LARGE`; 415 `UNSUPPORTED_MEDIA_TYPE`;
 * - 500 `INTERNAL` (details logged, never sent); 503 `TIMEOUT` (a read ran past `statementTimeoutMs`); 503 `SHUTTING_DOWN`
 *   (`api/events` after `Dashboard.close()`, with a `Retry-After`).
 */
export type DashboardErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'READ_ONLY'
  | 'CROSS_ORIGIN'
  | 'CSRF_TOKEN_MISSING'
  | 'CSRF_TOKEN_INVALID'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL'
  | 'TIMEOUT'
  | 'SHUTTING_DOWN';

/** An error answer, thrown anywhere in a request and turned into its JSON response. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: DashboardErrorCode;
  /** Extra response headers (`Allow` on a 405). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: DashboardErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** A 400 `INVALID_REQUEST`. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'INVALID_REQUEST', message);
}
