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
  // 0002_unique_jobs.sql
  'unique_key',
  'unique_states',
] as const;

/** The columns added by migration 0002 (unique jobs), named separately in schema errors. */
export const UNIQUE_COLUMNS: readonly string[] = ['unique_key', 'unique_states'];

/**
 * One bit per state, for `unique_states`: a job keeps its `unique_key` only while its state's
 * bit is set. Stored in the database: never renumber.
 */
export const STATE_BITS: Readonly<Record<JobState, number>> = { available: 1, running: 2, completed: 4, cancelled: 8, discarded: 16 };

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

/** A job to insert under a unique key (see `enqueueUnique`). */
export interface UniqueInsertRow extends InsertRow {
  uniqueKey: string;
  /** Bitmask of the states in which the key keeps others out (`STATE_BITS`: available 1, running 2, completed 4, cancelled 8, discarded 16). */
  uniqueStates: number;
}

/** What a unique insert found: the new job, or the id of the job holding the key (null when not visible). */
export type UniqueInsertResult = { inserted: true; id: string } | { inserted: false; id: string | null };

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
