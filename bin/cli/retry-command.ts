/**
 * `concordia retry <id>`: puts a discarded or cancelled job back in its queue.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import type { JobState } from '../../lib/job.ts';
import { isAnyJobId, MAX_JOB_ID } from '../../lib/job-id.ts';
import { checkIdForBackend } from './cancel-command.ts';
import { usage } from './exit-codes.ts';

/** What `retry --json` prints. `state` is the job's state now (null when no job has that id). */
export interface RetryReport {
  id: string;
  retried: boolean;
  state: JobState | null;
}

/**
 * Refuses anything that is no backend's job id (a positive integer, or a UUIDv7), before any
 * connection is made; which of the two the database uses is checked once connected
 * ({@link checkIdForBackend}).
 */
export function checkRetryId(id: string | undefined): string {
  if (id === undefined || !isAnyJobId(id)) throw usage(`retry: give the job id, an integer up to ${MAX_JOB_ID} (SQL) or a UUIDv7 (Redis)${id === undefined ? '' : ` (got "${id.slice(0, 40)}")`}.`);
  return id;
}

/**
 * Retries through the dialect's `retry`: state `available`, attempt 0, due now, `errors` kept.
 * Only `discarded` and `cancelled` jobs qualify: a live job is already queued or running, and
 * re-running a `completed` one is a new job, not a retry.
 */
export async function retryCommand(jobs: Jobs<unknown>, id: string): Promise<RetryReport> {
  checkIdForBackend('retry', jobs, id);
  await jobs.verify();
  const result = await jobs.backend.retry(jobs.adapter.autocommit(), id, jobs.clock.sqlNow());
  return { id, ...result };
}

/** Why a retry did not happen, from the job's state. */
export function retryRefusal(r: RetryReport): string {
  if (r.state === null) return 'no job has this id.';
  return `it is ${r.state}; only discarded or cancelled jobs can be retried.`;
}
