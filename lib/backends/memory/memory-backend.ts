/**
 * The in-memory store: the same operations as the SQL dialects, on plain objects, for unit tests
 * and development. Transactions buffer inserts and apply them on commit, so rollback semantics
 * match the SQL databases.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Backend, DispatcherAccess } from '../../backend/backend.ts';
import type { BackendCapabilities } from '../../backend/capabilities.ts';
import { StateError } from '../../errors.ts';
import { isJobId } from '../../job-id.ts';
import { STATE_BITS, type ClaimedJob, type Fence, type InsertRow, type JobErrorEntry, type JobState, type UniqueInsertResult, type UniqueInsertRow } from '../../job.ts';
import type { ClaimParams, FailParams, JobCount, ListedJob, ListJobsFilter, PruneParams, RetryResult } from '../../backend/backend.ts';
import type * as Inspection from '../../backend/inspection.ts';
import { MemoryInspection } from './memory-inspection.ts';

/**
 * One job row of the memory store.
 *
 * @inline
 */
export interface MemoryJobRow {
  id: number;
  queue: string;
  kind: string;
  args: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: number;
  attemptedAt: number | null;
  finalizedAt: number | null;
  createdAt: number;
  leaseToken: string | null;
  lockedBy: string | null;
  leaseExpiresAt: number | null;
  errors: JobErrorEntry[] | null;
  metadata: string | null;
  uniqueKey: string | null;
  uniqueStates: number | null;
}

/** The shared state of one memory database. */
export class MemoryStore {
  readonly rows = new Map<number, MemoryJobRow>();
  nextId = 1;
  /** Paused queues (the SQL dialects keep marker rows instead). */
  readonly paused = new Set<string>();
  /** The insert buffers of the open transactions, so a unique insert can see keys they hold. */
  readonly openTransactions = new Set<MemoryJobRow[]>();
  #ended: (() => void)[] = [];

  /** Resolves when any open transaction commits or rolls back. */
  transactionEnded(): Promise<void> {
    return new Promise((resolve) => this.#ended.push(resolve));
  }

  /** Called by the adapter when a transaction ends, to wake unique inserts waiting on its keys. */
  endTransaction(pending: MemoryJobRow[]): void {
    this.openTransactions.delete(pending);
    const waiting = this.#ended;
    this.#ended = [];
    for (const wake of waiting) wake();
  }
}

/** Sets a row's state, dropping its unique key when the new state is not one the key covers. */
function enter(r: MemoryJobRow, state: JobState): void {
  r.state = state;
  if (r.uniqueStates !== null && (r.uniqueStates & STATE_BITS[state]) === 0) r.uniqueKey = null;
}

/**
 * The memory backend's session: the store, and the open transaction's insert buffer if any
 * (null for a session whose writes apply at once).
 */
export interface MemorySession {
  /** @internal */
  readonly store: MemoryStore;
  /** @internal */
  readonly pending: MemoryJobRow[] | null;
}

type Executor = MemorySession;
type DispatcherDb = DispatcherAccess<MemorySession>;

function storeOf(ex: unknown): MemorySession {
  const m = ex as Partial<MemorySession> | null;
  if (!m?.store) throw new StateError('The memory backend needs a session from memoryAdapter().');
  return m as MemorySession;
}

/** What the memory store can do: everything but LISTEN-like wake-ups and savepoints. */
const MEMORY_CAPABILITIES: BackendCapabilities = {
  transactionalEnqueue: true,
  transactionalCompletion: true,
  // No savepoints: a batch split in several writes could not be undone half way. The client
  // never splits a memory batch (see maxBatchBytes), so enqueueMany is still all or nothing.
  atomicBatches: false,
  syncEnqueue: true,
  wakeups: 'poll',
  ids: 'store',
};

export class MemoryBackend implements Backend<MemorySession> {
  readonly name = 'memory';
  readonly capabilities = MEMORY_CAPABILITIES;

  #rows(ex: Executor): MemoryJobRow[] {
    return [...storeOf(ex).store.rows.values()];
  }

  insertSync(ex: Executor, rows: readonly InsertRow[], now: Date | null): string[] {
    const m = storeOf(ex);
    const t = (now ?? new Date()).getTime();
    const ids: string[] = [];
    for (const r of rows) {
      const row: MemoryJobRow = {
        id: m.store.nextId++,
        queue: r.queue,
        kind: r.kind,
        args: r.argsJson,
        state: 'available',
        priority: r.priority,
        attempt: 0,
        maxAttempts: r.maxAttempts,
        runAt: r.runAt ? r.runAt.getTime() : t + r.delayMs,
        attemptedAt: null,
        finalizedAt: null,
        createdAt: t,
        leaseToken: null,
        lockedBy: null,
        leaseExpiresAt: null,
        errors: null,
        metadata: r.metadataJson,
        uniqueKey: null,
        uniqueStates: null,
      };
      if (m.pending) m.pending.push(row);
      else m.store.rows.set(row.id, row);
      ids.push(String(row.id));
    }
    return ids;
  }

  async insert(ex: Executor, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
    return this.insertSync(ex, rows, now);
  }

  async maxBatchBytes(_ex: Executor): Promise<number> {
    return Number.MAX_SAFE_INTEGER;
  }

  isJobId(text: string): boolean {
    return isJobId(text);
  }

  atomic<T>(_ex: Executor, _name: string, fn: () => Promise<T>): Promise<T> {
    // No savepoints here; the client never splits a memory batch (its byte budget is not reached).
    return fn();
  }

  atomicSync<T>(_ex: Executor, _name: string, fn: () => T): T {
    return fn();
  }

  async insertUnique(ex: Executor, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    const m = storeOf(ex);
    // Like a unique index: a key held by another open transaction makes us wait for its outcome.
    for (;;) {
      const own = (m.pending ?? []).find((r) => r.uniqueKey === row.uniqueKey);
      const committed = [...m.store.rows.values()].find((r) => r.uniqueKey === row.uniqueKey);
      const holder = own ?? committed;
      if (holder) return { inserted: false, id: String(holder.id) };
      const elsewhere = [...m.store.openTransactions].some((p) => p !== m.pending && p.some((r) => r.uniqueKey === row.uniqueKey));
      if (!elsewhere) break;
      await m.store.transactionEnded();
    }
    const [id] = this.insertSync(ex, [row], now);
    const inserted = m.pending?.at(-1) ?? m.store.rows.get(Number(id));
    inserted!.uniqueKey = row.uniqueKey;
    inserted!.uniqueStates = row.uniqueStates;
    return { inserted: true, id: id! };
  }

  insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return this.insertUnique(db.autocommit, row, now);
  }

  async claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    const t = (p.now ?? new Date()).getTime();
    // As in SQL, the claim itself skips paused queues, whatever the worker last read.
    const paused = storeOf(db.autocommit).store.paused;
    const due = this.#rows(db.autocommit)
      .filter((r) => r.state === 'available' && p.queues.includes(r.queue) && !paused.has(r.queue) && r.runAt <= t)
      .sort((a, b) => a.priority - b.priority || a.runAt - b.runAt || a.id - b.id)
      .slice(0, p.limit);
    return due.map((r) => {
      enter(r, 'running');
      r.attempt += 1;
      r.attemptedAt = t;
      r.leaseToken = randomUUID();
      r.lockedBy = p.workerId;
      r.leaseExpiresAt = t + p.leaseMs;
      return {
        id: String(r.id),
        queue: r.queue,
        kind: r.kind,
        args: r.args,
        metadata: r.metadata,
        attempt: r.attempt,
        maxAttempts: r.maxAttempts,
        priority: r.priority,
        runAt: new Date(r.runAt),
        createdAt: new Date(r.createdAt),
        leaseToken: r.leaseToken,
      };
    });
  }

  #fenced(ex: Executor, f: Fence): MemoryJobRow | undefined {
    const r = storeOf(ex).store.rows.get(Number(f.id));
    return r && r.state === 'running' && r.leaseToken === f.token ? r : undefined;
  }

  async complete(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
    const t = (now ?? new Date()).getTime();
    const done = new Set<string>();
    for (const f of fences) {
      const r = this.#fenced(db.autocommit, f);
      if (!r) continue;
      enter(r, 'completed');
      r.finalizedAt = t;
      r.leaseExpiresAt = null;
      done.add(f.id);
    }
    return done;
  }

  async pausedQueues(ex: Executor): Promise<string[]> {
    return [...storeOf(ex).store.paused];
  }

  async setQueuePaused(ex: Executor, queue: string, paused: boolean): Promise<boolean> {
    const set = storeOf(ex).store.paused;
    const had = set.has(queue);
    if (paused) set.add(queue);
    else set.delete(queue);
    return had !== paused;
  }

  async completeWithin(ex: Executor, fence: Fence, now: Date | null): Promise<boolean> {
    const r = this.#fenced(ex, fence);
    if (!r) return false;
    // Applied at once: the memory store has no transactional updates, only buffered inserts.
    enter(r, 'completed');
    r.finalizedAt = (now ?? new Date()).getTime();
    r.leaseExpiresAt = null;
    return true;
  }

  async fail(db: DispatcherDb, p: FailParams): Promise<boolean> {
    const r = this.#fenced(db.autocommit, p);
    if (!r) return false;
    const t = (p.now ?? new Date()).getTime();
    if (p.errorJson !== null) (r.errors ??= []).push(JSON.parse(p.errorJson) as JobErrorEntry);
    r.leaseExpiresAt = null;
    if (p.to === 'available') {
      enter(r, 'available');
      r.runAt = t + p.delayMs;
      if (p.refundAttempt) r.attempt -= 1;
    } else {
      enter(r, p.to);
      r.finalizedAt = t;
    }
    return true;
  }

  async release(db: DispatcherDb, fences: readonly Fence[], _now: Date | null): Promise<number> {
    let n = 0;
    for (const f of fences) {
      const r = this.#fenced(db.autocommit, f);
      if (!r) continue;
      enter(r, 'available');
      r.attempt -= 1;
      r.leaseExpiresAt = null;
      n++;
    }
    return n;
  }

  async extendLeases(db: DispatcherDb, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
    const t = (now ?? new Date()).getTime();
    const held = new Set<string>();
    for (const f of fences) {
      const r = this.#fenced(db.autocommit, f);
      if (!r) continue;
      r.leaseExpiresAt = t + leaseMs;
      held.add(f.id);
    }
    return held;
  }

  async rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    const t = (now ?? new Date()).getTime();
    const expired = this.#rows(db.autocommit)
      .filter((r) => r.state === 'running' && r.leaseExpiresAt !== null && r.leaseExpiresAt < t)
      .slice(0, limit);
    for (const r of expired) {
      (r.errors ??= []).push({ ...(JSON.parse(errorJson) as JobErrorEntry), attempt: r.attempt });
      r.leaseExpiresAt = null;
      // run_at stays: the job keeps its place in the claim order (as on the SQL databases).
      if (r.attempt >= r.maxAttempts) {
        enter(r, 'discarded');
        r.finalizedAt = t;
      } else {
        enter(r, 'available');
      }
    }
    return expired.length;
  }

  async prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    const cutoff = (p.now ?? new Date()).getTime() - p.olderThanMs;
    const store = storeOf(db.autocommit).store;
    const old = [...store.rows.values()].filter((r) => r.state === p.state && r.finalizedAt !== null && r.finalizedAt < cutoff).slice(0, p.limit);
    for (const r of old) store.rows.delete(r.id);
    return old.length;
  }

  async cancel(ex: Executor, id: string, now: Date | null): Promise<boolean> {
    const r = storeOf(ex).store.rows.get(Number(id));
    if (!r || (r.state !== 'available' && r.state !== 'running')) return false;
    r.leaseExpiresAt = null;
    enter(r, 'cancelled');
    r.finalizedAt = (now ?? new Date()).getTime();
    return true;
  }

  async verify(ex: Executor): Promise<void> {
    storeOf(ex);
  }

  // --- Inspection (concordia/testing, the CLI). Types are imported inline to keep this block self-contained.

  async listJobs(ex: Executor, filter: ListJobsFilter): Promise<ListedJob[]> {
    const m = storeOf(ex);
    // A transaction's executor sees the committed rows plus its own buffered inserts, like SQL.
    const rows = [...m.store.rows.values(), ...(m.pending ?? [])]
      .filter((r) => (filter.kind === undefined || r.kind === filter.kind) && (filter.queue === undefined || r.queue === filter.queue) && (filter.state === undefined || r.state === filter.state))
      .sort((a, b) => a.id - b.id)
      .slice(0, Math.max(1, Math.min(Math.trunc(filter.limit ?? 1000), 100_000)));
    return rows.map((r) => ({
      id: String(r.id),
      queue: r.queue,
      kind: r.kind,
      state: r.state,
      args: JSON.parse(r.args) as unknown,
      metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as unknown),
      errors: r.errors === null ? null : structuredClone(r.errors),
      priority: r.priority,
      attempt: r.attempt,
      maxAttempts: r.maxAttempts,
      runAt: new Date(r.runAt),
      createdAt: new Date(r.createdAt),
      finalizedAt: r.finalizedAt === null ? null : new Date(r.finalizedAt),
    }));
  }

  async countJobs(ex: Executor): Promise<JobCount[]> {
    const counts = new Map<string, JobCount>();
    for (const r of storeOf(ex).store.rows.values()) {
      const key = JSON.stringify([r.queue, r.state]);
      const c = counts.get(key) ?? { queue: r.queue, state: r.state, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  }

  // --- Operator actions (the CLI).

  async retry(ex: Executor, id: string, now: Date | null): Promise<RetryResult> {
    const r = storeOf(ex).store.rows.get(Number(id));
    if (!r) return { retried: false, state: null };
    if (r.state !== 'discarded' && r.state !== 'cancelled') return { retried: false, state: r.state };
    r.state = 'available';
    r.attempt = 0;
    r.runAt = (now ?? new Date()).getTime();
    r.finalizedAt = null;
    r.leaseExpiresAt = null;
    return { retried: true, state: 'available' };
  }

  // --- Dashboard: memory-inspection.ts.

  readonly #inspection = new MemoryInspection({ storeOf, enter });
  searchJobs(ex: Executor, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage> {
    return this.#inspection.searchJobs(ex, params);
  }
  countMatching(ex: Executor, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount> {
    return this.#inspection.countMatching(ex, filter, options);
  }
  jobDetail(ex: Executor, id: string): Promise<Inspection.JobDetail | null> {
    return this.#inspection.jobDetail(ex, id);
  }
  overviewCounts(ex: Executor, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]> {
    return this.#inspection.overviewCounts(ex, options);
  }
  throughput(ex: Executor, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]> {
    return this.#inspection.throughput(ex, params);
  }
  runningJobs(ex: Executor, limit: number): Promise<Inspection.RunningJob[]> {
    return this.#inspection.runningJobs(ex, limit);
  }
  applyAction(db: DispatcherDb, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]> {
    return this.#inspection.applyAction(db, action, target, now);
  }
}
