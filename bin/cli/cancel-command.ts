/**
 * `concordia cancel <id>`: cancels a job that has not started.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import { isJobId, MAX_JOB_ID } from '../../lib/job-id.ts';
import { usage } from './exit-codes.ts';

/** What `cancel --json` prints. */
export interface CancelReport {
  id: string;
  cancelled: boolean;
}

/** Refuses anything but a job id (a positive integer), before any connection is made. */
export function checkJobId(id: string | undefined): string {
  if (id === undefined || !isJobId(id)) throw usage(`cancel: give the job id, an integer up to ${MAX_JOB_ID}${id === undefined ? '' : ` (got "${id.slice(0, 40)}")`}.`);
  return id;
}

/** Cancels through the client (the statement is the backend's `cancel`); false when not cancellable. */
export async function cancelCommand(jobs: Jobs<unknown>, id: string): Promise<CancelReport> {
  await jobs.verify();
  return { id, cancelled: await jobs.cancel(id) };
}
