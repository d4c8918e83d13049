/**
 * The backend seam: one contract for everything the engine asks of storage. A backend owns
 * every statement or command for its store; the engine calls these operations and never holds
 * SQL or store calls. The SQL dialects (lib/dialects/) are one family behind it, sharing their
 * SQL machinery; the memory store (lib/backends/memory/) is a plain member. See
 * docs/design/backends.md for where each store family plugs in.
 *
 * @internal Not semver-stable: backends may be reshaped between minor versions.
 */
import type { ClaimedJob, Fence, InsertRow, JobState, UniqueInsertResult, UniqueInsertRow } from '../job.ts';
import type * as Inspection from './inspection.ts';
import type { BackendCapabilities } from './capabilities.ts';
import type { TransactionOptions } from './adapter.ts';

export type { BackendCapabilities } from './capabilities.ts';

/** How a client configures the backend its adapter builds. */
export interface BackendOptions {
  /** The jobs table (SQL), or the name the store's keys, items or documents are grouped under. */
  table: string;
  /** Send wake-ups on enqueue where the store has them (PostgreSQL NOTIFY). Default true. */
  notify?: boolean;
}

/**
 * The dispatcher's access to the store: a session whose every write commits on its own, and
 * short transactions of the backend's own (on the adapter's pool or connection).
 */
export interface DispatcherAccess<S> {
  autocommit: S;
  transaction<T>(fn: (session: S) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

export interface ClaimParams {
  queues: readonly string[];
  limit: number;
  workerId: string;
  leaseMs: number;
  now: Date | null;
}

export interface FailParams extends Fence {
  /** `available` to run again after `delayMs`; `discarded` or `cancelled` to end the job. */
  to: 'available' | 'discarded' | 'cancelled';
  delayMs: number;
  /** The entry to append to `errors`, or null to append none (a snooze). */
  errorJson: string | null;
  /** Give the attempt back (a snooze is not a failure). */
  refundAttempt?: boolean;
  now: Date | null;
  /**
   * An earlier try of this same write failed without an answer (a lost connection): if this one
   * matches nothing, the earlier one may have committed, so a row found in `to` under this
   * fence's token counts as written.
   */
  retried?: boolean;
}

export interface PruneParams {
  state: 'completed' | 'cancelled' | 'discarded';
  olderThanMs: number;
  limit: number;
  now: Date | null;
}

/**
 * Everything the engine asks of a store. `S` is the backend's session: what an adapter makes of
 * the caller's transaction handle (`Adapter.bind`) or of its own pool (`Adapter.autocommit`).
 * The SQL dialects share one session type (an executor of SQL text); other backends choose
 * theirs (the memory store's buffer, a Redis MULTI, a list of DynamoDB transaction items…).
 * The engine never looks inside a session: it only hands it back to the backend.
 */
export interface Backend<S = unknown> {
  /** Short name for messages and logs, e.g. `postgres`, `memory`. */
  readonly name: string;
  /** What this backend can do; the engine and the conformance suite read this, never the name. */
  readonly capabilities: BackendCapabilities;
  /**
   * Whether `text` can name a job of this store: decimal digits up to 2^63 − 1 where the store
   * numbers jobs (SQL, memory), the client-made id's form elsewhere. Checked before any read or
   * write that takes an id, so a malformed id is refused with a typed error, never sent.
   */
  isJobId(text: string): boolean;
  /** The channel enqueues notify on, where the store has LISTEN-like wake-ups (see {@link Adapter.listen}). */
  readonly channel?: string | null;
  /** Inserts a batch of jobs through `ex` (the caller's transaction or an autocommit executor); returns ids in order. */
  insert(ex: S, rows: readonly InsertRow[], now: Date | null): Promise<string[]>;
  /**
   * The same insert for synchronous drivers, whose transactions cannot await (present where
   * `capabilities.syncEnqueue`). Throws {@link StateError} where the session has no synchronous path.
   */
  insertSync?(ex: S, rows: readonly InsertRow[], now: Date | null): string[];
  /**
   * The largest batch, in bytes of encoded args and metadata, that one insert may send through
   * `ex`: the server's packet limit where it has one that ordinary batches can reach (MariaDB's
   * `max_allowed_packet`, read once), a fixed budget elsewhere. Called only for batches too
   * large to be obviously safe.
   */
  maxBatchBytes(ex: S): Promise<number>;
  /**
   * Runs `fn` (several inserts through `session`) all or nothing inside the caller's
   * transaction, leaving that transaction usable when `fn` throws: a savepoint on SQL. Where
   * `capabilities.atomicBatches` is false it just runs `fn`.
   */
  atomic<T>(session: S, name: string, fn: () => Promise<T>): Promise<T>;
  /** {@link Backend.atomic} for synchronous sessions (present with {@link Backend.insertSync}). */
  atomicSync?<T>(session: S, name: string, fn: () => T): T;
  /**
   * Inserts one job unless a job holding the same `unique_key` exists (waiting for an open
   * transaction that holds it, as the unique index does). Never raises a unique violation: on
   * PostgreSQL that would abort the caller's transaction.
   */
  insertUnique(ex: S, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult>;
  /** {@link Backend.insertUnique} committed on its own, on the adapter's pool. */
  insertUniqueAutocommit(db: DispatcherAccess<S>, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult>;
  /**
   * Claims up to `limit` due jobs of `queues` for one worker, taking a lease on each. Queues
   * paused in the database when the claim runs are left out by the claim itself, whatever the
   * worker last read, so a pause committed before a claim starts is never violated by it.
   */
  claim(db: DispatcherAccess<S>, params: ClaimParams): Promise<ClaimedJob[]>;
  /** Marks executions completed; returns the ids whose fence still held. */
  complete(db: DispatcherAccess<S>, fences: readonly Fence[], now: Date | null): Promise<Set<string>>;
  /** The queues paused right now (by any process). */
  pausedQueues(ex: S): Promise<string[]>;
  /**
   * Pauses or resumes a queue for every worker. The pause is a marker row of state `paused` in
   * the jobs table (no other table to migrate); claims never see it. True if this call changed it.
   */
  setQueuePaused(ex: S, queue: string, paused: boolean, now: Date | null): Promise<boolean>;
  /** Marks one execution completed through `ex` (the handler's own transaction). False when the fence no longer held. */
  completeWithin(ex: S, fence: Fence, now: Date | null): Promise<boolean>;
  /** Records a failure, snooze, cancel or discard of a running job. False when the fence no longer held. */
  fail(db: DispatcherAccess<S>, params: FailParams): Promise<boolean>;
  /** Returns executions to `available` without using up their attempt (graceful stop). */
  release(db: DispatcherAccess<S>, fences: readonly Fence[], now: Date | null): Promise<number>;
  /** Pushes lease expiry forward; returns the ids whose fence still held. */
  extendLeases(db: DispatcherAccess<S>, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>>;
  /** Returns up to `limit` jobs whose lease expired to `available` (or `discarded` when out of attempts). */
  rescue(db: DispatcherAccess<S>, errorJson: string, limit: number, now: Date | null): Promise<number>;
  /** Deletes up to `limit` jobs in final state `state` that finished more than `olderThanMs` ago. */
  prune(db: DispatcherAccess<S>, params: PruneParams): Promise<number>;
  /**
   * Cancels a job that has not finished. A running job's worker finds out at its next heartbeat
   * (its fence no longer holds), aborts the handler and drops its result. True when cancelled.
   */
  cancel(ex: S, id: string, now: Date | null): Promise<boolean>;
  /**
   * Fails fast on an unsupported server version or a missing table or column. May return
   * warnings about how the store is set up (e.g. Redis persistence that could lose jobs), as
   * sentences: the worker logs each once when it starts.
   */
  verify(ex: S): Promise<readonly string[] | void>;
  // --- Inspection (concordia/testing, the CLI): read-only, never on the dispatcher's hot path.
  /** Lists jobs matching `filter`, oldest id first, through `ex` (a transaction sees its own uncommitted rows). */
  listJobs(ex: S, filter: ListJobsFilter): Promise<ListedJob[]>;
  /** Counts jobs by queue and state (for `concordia status`). */
  countJobs(ex: S): Promise<JobCount[]>;
  // --- Operator actions (the CLI).
  /**
   * Puts a `discarded` or `cancelled` job back to `available`, due now, with its attempt count
   * reset (its `errors` history is kept). Any other state, or an unknown id, changes nothing.
   */
  retry(ex: S, id: string, now: Date | null): Promise<RetryResult>;
  // --- Dashboard: inspection and operator actions on any number of jobs (lib/backend/inspection.ts
  // has the types and the input checks). Each read is bounded and served by an index; each
  // method checks its input first and throws InvalidFilterError or InvalidOptionError before
  // any statement runs.
  /** One page of jobs matching `filter`, newest first (keyset pagination on the id: stable while jobs are inserted). */
  searchJobs(ex: S, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage>;
  /** How many jobs match `filter`, exactly up to `max` (1–100,000), and whether more do. */
  countMatching(ex: S, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount>;
  /** The whole row of one job, or null when no job has that id. */
  jobDetail(ex: S, id: string): Promise<Inspection.JobDetail | null>;
  /** Counts by queue and state: exact for live states and pause markers, estimated for large finished groups. */
  overviewCounts(ex: S, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]>;
  /** Finished jobs per time bucket, from `finalized_at` (as far back as retention keeps rows). */
  throughput(ex: S, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]>;
  /** Up to `limit` (1–100) running jobs, newest first, with their lease holders. */
  runningJobs(ex: S, limit: number): Promise<Inspection.RunningJob[]>;
  /**
   * Applies an operator action to the listed jobs or to those matching a filter (up to `max`,
   * newest first, in short batches, each committed on its own). Jobs not in a state the action
   * applies to are left alone. Returns the ids it changed, newest first.
   */
  applyAction(db: DispatcherAccess<S>, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]>;
}


/** What {@link Backend.listJobs} selects; every field narrows the result. */
export interface ListJobsFilter {
  kind?: string;
  queue?: string;
  state?: JobState;
  /** At most this many rows (oldest first). Default 1,000. */
  limit?: number;
}

/**
 * A job row as inspection sees it, decoded: JSON columns parsed, times as dates. A JSON column
 * holding text that does not parse (written by something other than Concordia) is given as
 * that raw text.
 *
 * @inline
 */
export interface ListedJob {
  id: string;
  queue: string;
  kind: string;
  state: JobState;
  args: unknown;
  metadata: unknown;
  errors: unknown;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  finalizedAt: Date | null;
}

/** One group of {@link Backend.countJobs}. */
export interface JobCount {
  queue: string;
  state: JobState;
  count: number;
}

/** What {@link Backend.retry} did: `retried`, or why not (the job's state, or null when no job has that id). */
export interface RetryResult {
  retried: boolean;
  state: JobState | null;
}
