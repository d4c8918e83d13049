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
