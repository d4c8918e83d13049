/**
 * `concordia cancel <id>`: cancels a job that has not started.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import { isAnyJobId, MAX_JOB_ID } from '../../lib/job-id.ts';
import { usage } from './exit-codes.ts';

/** What `cancel --json` prints. */
export interface CancelReport {
  id: string;
  cancelled: boolean;
}

/**
 * Refuses anything that is no backend's job id (a positive integer, or a UUIDv7), before any
 * connection is made; which of the two the database uses is checked once connected
 * ({@link checkIdForBackend}).
 */
export function checkJobId(id: string | undefined): string {
  if (id === undefined || !isAnyJobId(id)) throw usage(`cancel: give the job id, an integer up to ${MAX_JOB_ID} (SQL) or a UUIDv7 (Redis)${id === undefined ? '' : ` (got "${id.slice(0, 40)}")`}.`);
  return id;
}

/** Cancels through the client (the statement is the backend's `cancel`); false when not cancellable. */
export async function cancelCommand(jobs: Jobs<unknown>, id: string): Promise<CancelReport> {
  checkIdForBackend('cancel', jobs, id);
  await jobs.verify();
  return { id, cancelled: await jobs.cancel(id) };
}

/** Refuses an id of the other form than the connected backend's (a UUID on SQL, a number on Redis). */
export function checkIdForBackend(command: string, jobs: Jobs<unknown>, id: string): void {
  if (jobs.backend.isJobId(id)) return;
  const form = jobs.backend.capabilities.ids === 'client' ? 'a UUIDv7' : `an integer up to ${MAX_JOB_ID}`;
  throw usage(`${command}: "${id.slice(0, 40)}" is not a job id of this ${jobs.backend.name} database, whose ids are ${form}.`);
}
