/**
 * Row-level types shared by the engine and the dialects.
 *
 * @internal Not part of the semver-stable API.
 */

/**
 * Where a job is in its life:
 * - `available`: waiting to run once `run_at` has passed (new, scheduled or retrying);
 * - `running`: claimed by a worker under a lease;
 * - `completed`, `cancelled`, `discarded`: final.
 */
export type JobState = 'available' | 'running' | 'completed' | 'cancelled' | 'discarded';

/** Every column the engine reads or writes, in DDL order. */
export const JOB_COLUMNS = [
  'id',
  'queue',
  'kind',
  'args',
  'state',
  'priority',
  'attempt',
  'max_attempts',
  'run_at',
  'attempted_at',
  'finalized_at',
  'created_at',
  'lease_token',
  'locked_by',
  'lease_expires_at',
  'errors',
  'metadata',
] as const;

/** A job to insert, already validated and encoded. */
export interface InsertRow {
  queue: string;
  kind: string;
  argsJson: string;
  priority: number;
  maxAttempts: number;
  /** Absolute run time; when null the job is due at database-now plus `delayMs`. */
  runAt: Date | null;
  delayMs: number;
  metadataJson: string | null;
}

/** A job as a claim returns it. */
export interface ClaimedJob {
  id: string;
  queue: string;
  kind: string;
  /** The raw args column: JSON text, or an object if the driver already parsed it. */
  args: unknown;
  metadata: unknown;
  attempt: number;
  maxAttempts: number;
  priority: number;
  runAt: Date;
  createdAt: Date;
  leaseToken: string;
}

/** Identifies one claimed execution: a state change applies only while both still match. */
export interface Fence {
  id: string;
  token: string;
}

/** One entry of a job's `errors` column. */
export interface JobErrorEntry {
  attempt?: number;
  at: string;
  message: string;
  name?: string;
  stack?: string;
  reason?: string;
}
