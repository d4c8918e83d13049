/**
 * The dashboard's inspection and operator methods on the memory store, with the same results
 * as the SQL databases (inspection.ts has the contract): the same paging, scan budget and
 * action rules, on plain objects.
 *
 * @internal
 */
import type { DispatcherAccess } from '../../backend/backend.ts';
import type { JobState } from '../../job.ts';
import {
  ACTION_STATES,
  BULK_BATCH,
  DEFAULT_SCAN,
  FINAL_STATES,
  MAX_BULK,
  MAX_PAGE,
  checkAction,
  checkFilter,
  checkId,
  checkInt,
  checkSearch,
  checkTarget,
  checkThroughput,
  fillBuckets,
  jsonHolds,
  normaliseErrors,
  parseStoredJson,
  type CheckedFilter,
  type JobAction,
  type JobDetail,
  type JobFilter,
  type JobPage,
  type JobSummary,
  type JobTarget,
  type MatchCount,
  type OverviewCount,
  type OverviewOptions,
  type RunningJob,
  type SearchJobsParams,
  type ThroughputBucket,
  type ThroughputParams,
} from '../../backend/inspection.ts';
import type { MemoryJobRow, MemorySession } from './memory-backend.ts';

type DispatcherDb = DispatcherAccess<MemorySession>;

/** What the memory backend lends: its executor check and its state transition (which drops unique keys). */
export interface MemoryAccess {
  storeOf(ex: unknown): MemorySession;
  enter(r: MemoryJobRow, state: JobState): void;
}

/** What a page's scan walks: the filter's states below the cursor (the `(state, id)` index on SQL). */
function indexed(r: MemoryJobRow, f: CheckedFilter, cursor: number | null): boolean {
  return f.states.includes(r.state) && (cursor === null || r.id < cursor);
}

/** Every condition beyond the states: each row it rejects still counts toward the scan budget. */
function residual(r: MemoryJobRow, f: CheckedFilter): boolean {
  if (f.kinds !== null && !f.kinds.includes(r.kind)) return false;
  if (f.queues !== null && !f.queues.includes(r.queue)) return false;
  if (f.createdFrom !== null && r.createdAt < f.createdFrom) return false;
  if (f.createdTo !== null && r.createdAt >= f.createdTo) return false;
  if (f.json.length === 0) return true;
  const args = parseStoredJson(r.args);
  const metadata = parseStoredJson(r.metadata);
  return f.json.every((m) => jsonHolds(m.column === 'args' ? args : metadata, m));
}

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function summary(r: MemoryJobRow): JobSummary {
  const last = r.errors?.at(-1);
  return {
    id: String(r.id),
    queue: r.queue,
    kind: r.kind,
    state: r.state,
    priority: r.priority,
    attempt: r.attempt,
    maxAttempts: r.maxAttempts,
    runAt: new Date(r.runAt),
    createdAt: new Date(r.createdAt),
    attemptedAt: date(r.attemptedAt),
    finalizedAt: date(r.finalizedAt),
    lockedBy: r.lockedBy,
    lastError: typeof last?.message === 'string' ? last.message.slice(0, 1_024) : null,
  };
}

export class MemoryInspection {
  readonly #m: MemoryAccess;

  constructor(access: MemoryAccess) {
    this.#m = access;
  }

  /** Committed rows plus the executor's own uncommitted inserts, newest first. */
  #rows(ex: unknown): MemoryJobRow[] {
    const m = this.#m.storeOf(ex);
    return [...m.store.rows.values(), ...(m.pending ?? [])].sort((a, b) => b.id - a.id);
  }

  /** One page, with the scan budget and `next` rule of the SQL dialects. */
  #page(ex: unknown, f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, extra: ((r: MemoryJobRow) => boolean) | null): { rows: MemoryJobRow[]; next: string | null } {
    const hasResidual = f.kinds !== null || f.queues !== null || f.createdFrom !== null || f.createdTo !== null || f.json.length > 0 || extra !== null;
    const size = hasResidual ? scanLimit : limit;
    const window = this.#rows(ex)
      .filter((r) => indexed(r, f, cursor === null ? null : Number(cursor)))
      .slice(0, size);
    const rows = window.filter((r) => residual(r, f) && (extra === null || extra(r))).slice(0, limit);
    let next: string | null = null;
    if (rows.length === limit) next = String(rows[rows.length - 1]!.id);
    else if (window.length === size) next = String(window[window.length - 1]!.id);
    return { rows, next };
  }

  async searchJobs(ex: unknown, params: SearchJobsParams): Promise<JobPage> {
    const p = checkSearch(params);
    const page = this.#page(ex, p.filter, p.cursor, p.limit, p.scanLimit, null);
    return { jobs: page.rows.map(summary), next: page.next };
  }

  async countMatching(ex: unknown, filter: JobFilter, options: { max: number }): Promise<MatchCount> {
    const f = checkFilter(filter);
    const max = checkInt('countMatching: max', options?.max, null, 1, MAX_BULK);
    const n = this.#rows(ex).filter((r) => indexed(r, f, null) && residual(r, f)).length;
    return { count: Math.min(n, max), capped: n > max };
  }

  async jobDetail(ex: unknown, id: string): Promise<JobDetail | null> {
    const r = this.#m.storeOf(ex).store.rows.get(Number(checkId('jobDetail: id', id)));
    if (!r) return null;
    return {
      ...summary(r),
      args: r.args,
      metadata: r.metadata,
      errors: normaliseErrors(r.errors),
      leaseExpiresAt: date(r.leaseExpiresAt),
      uniqueKey: r.uniqueKey,
    };
  }

  async overviewCounts(ex: unknown, options: OverviewOptions = {}): Promise<OverviewCount[]> {
    checkInt('overviewCounts: exactUpTo', options?.exactUpTo, 10_000, 1, 1_000_000);
    const m = this.#m.storeOf(ex);
    const counts = new Map<string, OverviewCount>();
    for (const r of m.store.rows.values()) {
      const key = JSON.stringify([r.queue, r.state]);
      const c = counts.get(key) ?? { queue: r.queue, state: r.state, count: 0, estimated: false };
      c.count++;
      counts.set(key, c);
    }
    for (const queue of m.store.paused) counts.set(JSON.stringify([queue, 'paused']), { queue, state: 'paused', count: 1, estimated: false });
    return [...counts.values()].sort((a, c) => (a.queue < c.queue ? -1 : a.queue > c.queue ? 1 : a.state < c.state ? -1 : a.state > c.state ? 1 : 0));
  }

  async throughput(ex: unknown, params: ThroughputParams): Promise<ThroughputBucket[]> {
    const p = checkThroughput(params);
    if (p.untilMs <= p.sinceMs) return [];
    const counts = [...this.#m.storeOf(ex).store.rows.values()]
      .filter((r) => (FINAL_STATES as readonly string[]).includes(r.state) && r.finalizedAt !== null && r.finalizedAt >= p.sinceMs && r.finalizedAt < p.untilMs)
      .map((r) => ({ bucket: Math.floor(r.finalizedAt! / p.bucketMs), state: r.state, n: 1 }));
    return fillBuckets(p, counts);
  }

  async runningJobs(ex: unknown, limit: number): Promise<RunningJob[]> {
    const n = checkInt('runningJobs: limit', limit, null, 1, MAX_PAGE);
    return this.#rows(ex)
      .filter((r) => r.state === 'running')
      .slice(0, n)
      .map((r) => ({
        id: String(r.id),
        queue: r.queue,
        kind: r.kind,
        attempt: r.attempt,
        maxAttempts: r.maxAttempts,
        runAt: new Date(r.runAt),
        lockedBy: r.lockedBy,
        attemptedAt: date(r.attemptedAt),
        leaseExpiresAt: date(r.leaseExpiresAt),
      }));
  }

  async applyAction(db: DispatcherDb, action: JobAction, target: JobTarget, now: Date | null): Promise<string[]> {
    const a = checkAction(action);
    const tg = checkTarget(target);
    const t = (now ?? new Date()).getTime();
    const ex = db.autocommit;
    if ('ids' in tg) return this.#act(ex, a, tg.ids, t).sort((x, y) => Number(y) - Number(x));
    const states = tg.filter.states.filter((s) => ACTION_STATES[a].includes(s));
    if (states.length === 0) return [];
    const filter = { ...tg.filter, states };
    const due = a === 'runNow' ? (r: MemoryJobRow) => r.runAt > t : null;
    const changed: string[] = [];
    let cursor: string | null = null;
    while (changed.length < tg.max) {
      const page: { rows: MemoryJobRow[]; next: string | null } = this.#page(ex, filter, cursor, Math.min(BULK_BATCH, tg.max - changed.length), DEFAULT_SCAN, due);
      changed.push(...this.#act(ex, a, page.rows.map((r) => String(r.id)), t));
      if (page.next === null) break;
      cursor = page.next;
    }
    return changed;
  }

  #act(ex: unknown, action: JobAction, ids: readonly string[], t: number): string[] {
    const store = this.#m.storeOf(ex).store;
    const changed: string[] = [];
    for (const id of ids) {
      const r = store.rows.get(Number(id));
      if (!r || !ACTION_STATES[action].includes(r.state)) continue;
      if (action === 'runNow' && !(r.runAt > t)) continue;
      switch (action) {
        case 'delete':
          store.rows.delete(r.id);
          break;
        case 'retry':
          this.#m.enter(r, 'available');
          r.attempt = 0;
          r.runAt = t;
          r.finalizedAt = null;
          r.leaseExpiresAt = null;
          break;
        case 'cancel':
        case 'discard':
          this.#m.enter(r, action === 'cancel' ? 'cancelled' : 'discarded');
          r.finalizedAt = t;
          r.leaseExpiresAt = null;
          break;
        case 'runNow':
          r.runAt = t;
          break;
      }
      changed.push(id);
    }
    return changed;
  }
}
