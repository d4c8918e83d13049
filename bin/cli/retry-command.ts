/**
 * `concordia retry <id>`: puts a discarded or cancelled job back in its queue.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import type { JobState } from '../../lib/job.ts';
import { isJobId, MAX_JOB_ID } from '../../lib/job-id.ts';
import { usage } from './exit-codes.ts';

/** What `retry --json` prints. `state` is the job's state now (null when no job has that id). */
export interface RetryReport {
  id: string;
  retried: boolean;
  state: JobState | null;
}

/** Refuses anything but a job id (a positive integer), before any connection is made. */
export function checkRetryId(id: string | undefined): string {
  if (id === undefined || !isJobId(id)) throw usage(`retry: give the job id, an integer up to ${MAX_JOB_ID}${id === undefined ? '' : ` (got "${id.slice(0, 40)}")`}.`);
  return id;
}

/**
 * Retries through the dialect's `retry`: state `available`, attempt 0, due now, `errors` kept.
 * Only `discarded` and `cancelled` jobs qualify: a live job is already queued or running, and
 * re-running a `completed` one is a new job, not a retry.
 */
export async function retryCommand(jobs: Jobs<unknown>, id: string): Promise<RetryReport> {
  await jobs.verify();
  const result = await jobs.backend.retry(jobs.adapter.autocommit(), id, jobs.clock.sqlNow());
  return { id, ...result };
}

/** Why a retry did not happen, from the job's state. */
export function retryRefusal(r: RetryReport): string {
  if (r.state === null) return 'no job has this id.';
  return `it is ${r.state}; only discarded or cancelled jobs can be retried.`;
}
