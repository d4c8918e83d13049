/**
 * Protection of the state-changing requests against cross-site request forgery, in two
 * independent layers: the request must come from the dashboard's own origin (the browser's
 * `Sec-Fetch-Site`, else `Origin`), and it must carry a token that only a page which read
 * `/api/session` as the same principal can know.
 *
 * A token is `<issued at>.<nonce>.<HMAC-SHA256 of principal id, issued at and nonce>`, so the
 * server keeps no state, a token stolen from one user is useless to another, and tokens expire.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidOptionError } from '../errors.ts';

/** How long a token is accepted after it was issued. The page fetches a new one on refusal. */
const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
const MIN_SECRET_BYTES = 32;

/** The header a state-changing request carries its token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** Issues and checks CSRF tokens with one secret. */
export class CsrfTokens {
  readonly #secret: Uint8Array;

  /** @param secret at least 32 bytes; default random (tokens then die with the process) */
  constructor(secret?: string | Uint8Array) {
    if (secret === undefined) {
      this.#secret = randomBytes(MIN_SECRET_BYTES);
      return;
    }
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? secret : null;
    if (!bytes || bytes.byteLength < MIN_SECRET_BYTES) {
      throw new InvalidOptionError(`createDashboard: \`csrfSecret\` must be a string or bytes of at least ${MIN_SECRET_BYTES} bytes.`);
    }
    this.#secret = Uint8Array.from(bytes);
  }

  #mac(principalId: string, issuedAt: string, nonce: string): Buffer {
    // JSON keeps the three parts apart whatever characters a principal id holds.
    return createHmac('sha256', this.#secret).update(JSON.stringify([principalId, issuedAt, nonce])).digest();
  }

  /** A fresh token for `principalId`. */
  issue(principalId: string, nowMs: number): string {
    const issuedAt = Math.floor(nowMs).toString(36);
    const nonce = randomBytes(16).toString('base64url');
    return `${issuedAt}.${nonce}.${this.#mac(principalId, issuedAt, nonce).toString('base64url')}`;
  }

  /** Whether `token` was issued by this secret to `principalId` and has not expired. */
  verify(token: string, principalId: string, nowMs: number): boolean {
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const [issuedAt, nonce, mac] = parts as [string, string, string];
    if (!/^[0-9a-z]{1,12}$/.test(issuedAt) || !/^[\w-]{1,64}$/.test(nonce) || !/^[\w-]{1,128}$/.test(mac)) return false;
    const age = nowMs - parseInt(issuedAt, 36);
    if (!(age >= -60_000 && age <= TOKEN_LIFETIME_MS)) return false;
    // Compared as text: base64 has several spellings of the same bytes, and only ours is the token.
    const expected = Buffer.from(this.#mac(principalId, issuedAt, nonce).toString('base64url'));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * Whether a request was sent by a page of the dashboard's own origin. Browsers send
 * `Sec-Fetch-Site` on every request (then it must be `same-origin`); older ones send `Origin` on
 * every POST (then its host must be the request's own). A request with neither did not come from
 * a browser page we can vouch for, and is refused. Only the host is compared, not the scheme: a
 * TLS-terminating proxy makes the request the server sees plain HTTP.
 */
export function isSameOrigin(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin';
  const origin = request.headers.get('origin');
  if (origin === null || origin === 'null') return false;
  try {
    return new URL(origin).host === new URL(request.url).host;
  } catch {
    return false;
  }
}
