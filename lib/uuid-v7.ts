/**
 * Job ids made by the client, for stores that must know an id before the user's transaction
 * commits (a Redis MULTI learns its results only at EXEC; a DynamoDB item list or a Firestore
 * transaction is written by the user). UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then
 * random bits, so ids sort by creation time as text, which those backends' keyset pages and
 * "newest first" lists rely on.
 *
 * @internal
 */
import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;

/**
 * Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per
 * id, which cost more than the rest of an id (a bulk enqueue makes thousands at once).
 */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/**
 * A new UUIDv7 in lowercase text form. Ids made in the same millisecond by this process still
 * sort in creation order: the 12 bits after the version carry a counter within the millisecond.
 */
export function uuidV7(nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      // More than 4,096 ids in one millisecond: borrow the next one, as the RFC allows.
      lastMs++;
      counter = 0;
    }
  } else {
    lastMs = nowMs;
    counter = 0;
  }
  if (poolAt + 16 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const bytes = POOL.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export { isUuidV7 } from './job-id.ts';
