/**
 * The Firestore backend: one document per job in the collection named by the table option,
 * unique-key guards in `<table>_unique`, queue pause markers in `<table>_queues`. Enqueues are
 * writes in the caller's `Transaction` or `WriteBatch`; every change of the dispatcher is a short
 * transaction that re-reads what it changes. Layout and hotspot avoidance: firestore-codec.ts.
 *
 * @internal
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Backend, ClaimParams, DispatcherAccess, FailParams, JobCount, ListedJob, ListJobsFilter, PruneParams, RetryResult } from '../../backend/backend.ts';
import type { BackendCapabilities } from '../../backend/capabilities.ts';
import type * as Inspection from '../../backend/inspection.ts';
import { InvalidOptionError, StateError } from '../../errors.ts';
import { isUuidV7 } from '../../job-id.ts';
import type { ClaimedJob, Fence, InsertRow, UniqueInsertResult, UniqueInsertRow } from '../../job.ts';
import { claimJobs, MAX_SHARDS } from './firestore-claim.ts';
import { completeJobs, extendJobs, failJob, releaseJobs, rescueJobs } from './firestore-finish.ts';
import { insertJobs, insertUniqueJob } from './firestore-insert.ts';
import { FirestoreInspection } from './firestore-inspection.ts';
import { cancelJob, pausedQueues, pruneJobs, retryJob, setPaused } from './firestore-operator.ts';
import { collectionsOf, sessionOf, type FirestoreCollections, type FirestoreSession } from './firestore-session.ts';

type DispatcherDb = DispatcherAccess<FirestoreSession>;

/** What the Firestore backend can do (see docs/design/backends.md). */
const FIRESTORE_CAPABILITIES: BackendCapabilities = {
  transactionalEnqueue: true,
  // A handler's transaction could only check the lease by reading the job before its own writes;
  // the engine completes after the handler has written. Not offered.
  transactionalCompletion: false,
  // All writes of a transaction commit together, but a failing enqueueMany cannot take back the
  // writes it already queued in the caller's transaction (Firestore has no savepoints).
  atomicBatches: false,
  syncEnqueue: false,
  wakeups: 'poll',
  ids: 'client',
};

/** Default number of shards: see firestore-codec.ts and the README's scale-out numbers. */
export const DEFAULT_SHARDS = 1;

/** One job's encoded size Firestore accepts, with room for the other fields (a document holds at most 1 MiB). */
const MAX_JOB_BYTES = 1_000_000;

export class FirestoreBackend implements Backend<FirestoreSession> {
  readonly name = 'firestore';
  readonly capabilities = FIRESTORE_CAPABILITIES;
  readonly table: string;
  readonly shards: number;
  readonly #collections = new WeakMap<Firestore, FirestoreCollections>();
  readonly #inspections = new WeakMap<Firestore, FirestoreInspection>();

  constructor(table: string, options: { shards?: number } = {}) {
    const shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new InvalidOptionError(`firestoreAdapter: shards must be an integer from 1 to ${MAX_SHARDS}, got ${String(shards)}.`);
    this.table = table;
    this.shards = shards;
  }

  #c(s: FirestoreSession): FirestoreCollections {
    let c = this.#collections.get(s.db);
    if (!c) this.#collections.set(s.db, (c = collectionsOf(s.db, this.table)));
    return c;
  }

  #inspection(ex: unknown): FirestoreInspection {
    const s = sessionOf(ex);
    let i = this.#inspections.get(s.db);
    if (!i) this.#inspections.set(s.db, (i = new FirestoreInspection(s.db, this.#c(s), this.shards)));
    return i;
  }

  isJobId(text: string): boolean {
    return isUuidV7(text);
  }

  insert(ex: FirestoreSession, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
    const s = sessionOf(ex);
    return insertJobs(s, this.#c(s), this.shards, rows, now);
  }

  async maxBatchBytes(_ex: FirestoreSession): Promise<number> {
    // The client refuses, before any write, a job whose estimate (twice its JSON) passes this.
    return 2 * MAX_JOB_BYTES;
  }

  atomic<T>(_ex: FirestoreSession, _name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  insertUnique(ex: FirestoreSession, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    const s = sessionOf(ex);
    return insertUniqueJob(s, this.#c(s), this.shards, row, now);
  }

  insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return this.insertUnique(db.autocommit, row, now);
  }

  claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    const s = sessionOf(db.autocommit);
    return claimJobs(s.db, this.#c(s), this.shards, p);
  }

  complete(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
    const s = sessionOf(db.autocommit);
    return completeJobs(s.db, this.#c(s), fences, now);
  }

  pausedQueues(ex: FirestoreSession): Promise<string[]> {
    return pausedQueues(this.#c(sessionOf(ex)));
  }

  setQueuePaused(ex: FirestoreSession, queue: string, paused: boolean, now: Date | null): Promise<boolean> {
    const s = sessionOf(ex);
    return setPaused(s.db, this.#c(s), queue, paused, now);
  }

  async completeWithin(): Promise<boolean> {
    throw new StateError('The Firestore backend cannot complete a job inside a handler\'s transaction: define the job without `transactional: true`.');
  }

  fail(db: DispatcherDb, p: FailParams): Promise<boolean> {
    const s = sessionOf(db.autocommit);
    return failJob(s.db, this.#c(s), p);
  }

  release(db: DispatcherDb, fences: readonly Fence[], _now: Date | null): Promise<number> {
    const s = sessionOf(db.autocommit);
    return releaseJobs(s.db, this.#c(s), fences);
  }

  extendLeases(db: DispatcherDb, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
    const s = sessionOf(db.autocommit);
    return extendJobs(s.db, this.#c(s), fences, leaseMs, now);
  }

  rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    const s = sessionOf(db.autocommit);
    return rescueJobs(s.db, this.#c(s), this.shards, errorJson, limit, now);
  }

  prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    const s = sessionOf(db.autocommit);
    return pruneJobs(s.db, this.#c(s), this.shards, p);
  }

  cancel(ex: FirestoreSession, id: string, now: Date | null): Promise<boolean> {
    const s = sessionOf(ex);
    return cancelJob(s, this.#c(s), id, now);
  }

  /** Reads one document: fails fast on a wrong project, missing credentials or an unreachable emulator. */
  async verify(ex: FirestoreSession): Promise<string[]> {
    const s = sessionOf(ex);
    await this.#c(s).queues.limit(1).get();
    return [];
  }

  retry(ex: FirestoreSession, id: string, now: Date | null): Promise<RetryResult> {
    const s = sessionOf(ex);
    return retryJob(s, this.#c(s), id, now);
  }

  // --- Inspection: firestore-inspection.ts. Reads are never transactional: a Firestore
  // transaction cannot read after its writes, so even a transaction's session reads committed data.

  listJobs(ex: FirestoreSession, filter: ListJobsFilter): Promise<ListedJob[]> {
    return this.#inspection(ex).listJobs(filter);
  }
  countJobs(ex: FirestoreSession): Promise<JobCount[]> {
    return this.#inspection(ex).countJobs();
  }
  searchJobs(ex: FirestoreSession, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage> {
    return this.#inspection(ex).searchJobs(params);
  }
  countMatching(ex: FirestoreSession, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount> {
    return this.#inspection(ex).countMatching(filter, options);
  }
  jobDetail(ex: FirestoreSession, id: string): Promise<Inspection.JobDetail | null> {
    return this.#inspection(ex).jobDetail(id);
  }
  overviewCounts(ex: FirestoreSession, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]> {
    return this.#inspection(ex).overviewCounts(options);
  }
  throughput(ex: FirestoreSession, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]> {
    return this.#inspection(ex).throughput(params);
  }
  runningJobs(ex: FirestoreSession, limit: number): Promise<Inspection.RunningJob[]> {
    return this.#inspection(ex).runningJobs(limit);
  }
  applyAction(db: DispatcherDb, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]> {
    return this.#inspection(db.autocommit).applyAction(action, target, now);
  }
}
