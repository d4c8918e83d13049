/**
 * Reads a JSON request body, bounded: a body past the limit is refused while it streams, not
 * after it has been buffered whole.
 *
 * @module
 */
import { HttpError, badRequest } from './http-error.ts';

/** The largest request body the API reads (a bulk action lists at most 10,000 ids). */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  // Also a CSRF layer of its own: a cross-site form cannot send application/json.
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new HttpError(413, 'BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes.`);
  if (!request.body) throw badRequest('The request has no body.');
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, 'BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON.');
  }
}
