/**
 * Job ids: BIGINT on every SQL database, carried as decimal strings end to end because a JS
 * number is exact only up to 2^53 − 1 and a busy table can pass that.
 *
 * @internal
 */

/** The largest id a BIGINT column holds (2^63 − 1). */
export const MAX_JOB_ID = '9223372036854775807';

/**
 * Whether `text` can name a job: decimal digits, at most {@link MAX_JOB_ID}. A larger number
 * could not be a job id, and bound as a BIGINT it fails on PostgreSQL and is clamped to the
 * largest id on MariaDB and SQLite, where it would name the wrong job.
 */
export function isJobId(text: string): boolean {
  return /^\d{1,19}$/.test(text) && (text.length < 19 || text <= MAX_JOB_ID);
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether `text` is a UUIDv7 in lowercase text form: the ids of backends whose client makes them. */
export function isUuidV7(text: string): boolean {
  return UUID_V7.test(text);
}

/**
 * Whether `text` has the form of a job id of any backend (see {@link isJobId} and
 * {@link isUuidV7}). For layers that serve every backend, such as the dashboard's HTTP routes:
 * the backend then checks its own form before any read.
 */
export function isAnyJobId(text: string): boolean {
  return isJobId(text) || isUuidV7(text);
}
