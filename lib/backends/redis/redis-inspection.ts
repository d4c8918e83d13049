/**
 * Inspection and operator actions of the Redis backend (testing helpers, CLI, dashboard). Ids
 * sort by creation time as text, so the `P:ids` and `P:state:<state>` sorted sets (all scores 0)
 * give newest-first and oldest-first walks with ZREVRANGEBYLEX / ZRANGEBYLEX; rows are read in
 * chunks by one script call and filtered here with the same rules as the other backends.
 *
 * @internal
 */
import type { DispatcherAccess, JobCount, ListedJob, ListJobsFilter } from '../../backend/backend.ts';
import { StateError } from '../../errors.ts';
import {
  ACTION_STATES,
  BULK_BATCH,
  checkAction,
  checkFilter,
  checkId,
  checkInt,
  checkSearch,
  checkTarget,
  checkThroughput,
  DEFAULT_SCAN,
  FINAL_STATES,
  fillBuckets,
  jsonHolds,
  MAX_BULK,
  MAX_PAGE,
  normaliseErrors,
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
import type { JobState } from '../../job.ts';
import type { RedisSession } from './redis-port.ts';
import { actScript, readJobsScript } from './scripts/operator.ts';
import { isUuidV7 } from '../../uuid-v7.ts';

/** One job hash, decoded. */
interface RedisJobRow {
  id: string;
  queue: string;
  kind: string;
  state: JobState;
  args: string;
  metadata: string | null;
  errors: string | null;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
  attemptedAt: number | null;
  finalizedAt: number | null;
  leaseExpiresAt: number | null;
  lockedBy: string | null;
  uniqueKey: string | null;
}

/** Ids read per round trip while walking an index. */
const CHUNK = 200;

function decode(flat: unknown): RedisJobRow | null {
  const a = flat as string[];
  if (!Array.isArray(a) || a.length === 0) return null;
  const h: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < a.length; i += 2) h[String(a[i])] = String(a[i + 1]);
  const num = (k: string): number | null => (h[k] === undefined ? null : Number(h[k]));
  return {
    id: h['id']!,
    queue: h['queue']!,
    kind: h['kind']!,
    state: h['state'] as JobState,
    args: h['args'] ?? 'null',
    metadata: h['metadata'] ?? null,
    errors: h['errors'] ?? null,
    priority: num('priority') ?? 0,
    attempt: num('attempt') ?? 0,
    maxAttempts: num('max_attempts') ?? 0,
    runAt: num('run_at') ?? 0,
    createdAt: num('created_at') ?? 0,
    attemptedAt: num('attempted_at'),
    finalizedAt: num('finalized_at'),
    leaseExpiresAt: num('lease_expires_at'),
    lockedBy: h['locked_by'] ?? null,
    uniqueKey: h['unique_key'] ?? null,
  };
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function matches(r: RedisJobRow, f: CheckedFilter): boolean {
  if (!f.states.includes(r.state)) return false;
  if (f.kinds !== null && !f.kinds.includes(r.kind)) return false;
  if (f.queues !== null && !f.queues.includes(r.queue)) return false;
  if (f.createdFrom !== null && r.createdAt < f.createdFrom) return false;
  if (f.createdTo !== null && r.createdAt >= f.createdTo) return false;
  if (f.json.length === 0) return true;
  const args = parse(r.args);
  const metadata = parse(r.metadata);
  return f.json.every((m) => jsonHolds(m.column === 'args' ? args : metadata, m));
}

function summary(r: RedisJobRow): JobSummary {
  const errors = normaliseErrors(parse(r.errors));
  const last = errors.at(-1);
  return {
    id: r.id,
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

export class RedisInspection {
  readonly #p: string;
  readonly #keys: string[];

  constructor(prefix: string) {
    this.#p = prefix;
    this.#keys = [prefix];
  }

  async #read(s: RedisSession, ids: readonly string[]): Promise<RedisJobRow[]> {
    if (ids.length === 0) return [];
    const raw = (await s.port.run(readJobsScript, this.#keys, ids)) as unknown[];
    return raw.map(decode).filter((r): r is RedisJobRow => r !== null);
  }

  /** The index to walk for `states`: one state's set, or every job. */
  #index(states: readonly JobState[] | null): string {
    return states !== null && states.length === 1 ? `${this.#p}:state:${states[0]}` : `${this.#p}:ids`;
  }

  /**
   * Walks `index` newest first (or oldest first) from below `cursor`, yielding chunks of rows.
   * Stops when `visit` returns false.
   */
  async #walk(s: RedisSession, index: string, cursor: string | null, newestFirst: boolean, visit: (rows: RedisJobRow[], lastId: string) => boolean): Promise<void> {
    let from = cursor === null ? null : cursor;
    for (;;) {
      const ids = (await s.port.command(
        newestFirst ? ['ZREVRANGEBYLEX', index, from === null ? '+' : `(${from}`, '-', 'LIMIT', 0, CHUNK] : ['ZRANGEBYLEX', index, from === null ? '-' : `(${from}`, '+', 'LIMIT', 0, CHUNK],
      )) as string[];
      if (ids.length === 0) return;
      const rows = await this.#read(s, ids.map(String));
      from = String(ids[ids.length - 1]);
      if (!visit(rows, from) || ids.length < CHUNK) return;
    }
  }

  async listJobs(s: RedisSession, filter: ListJobsFilter): Promise<ListedJob[]> {
    // A MULTI runs nothing before EXEC, so its own jobs cannot be read inside it. Answering with
    // the committed jobs only would let assertNotEnqueued(…, { tx }) pass on a MULTI that does
    // enqueue the job: refuse instead, and say what to do.
    if (s.multi !== null) {
      throw new StateError('listEnqueued / assertEnqueued / assertNotEnqueued cannot read inside a Redis MULTI: nothing in it runs before exec(), so its jobs do not exist yet. Call them without `tx` after `await multi.exec()`.');
    }
    const limit = Math.max(1, Math.min(Math.trunc(filter.limit ?? 1000), 100_000));
    const out: ListedJob[] = [];
    await this.#walk(s, this.#index(filter.state === undefined ? null : [filter.state]), null, false, (rows) => {
      for (const r of rows) {
        if ((filter.kind !== undefined && r.kind !== filter.kind) || (filter.queue !== undefined && r.queue !== filter.queue) || (filter.state !== undefined && r.state !== filter.state)) continue;
        out.push({
          id: r.id,
          queue: r.queue,
          kind: r.kind,
          state: r.state,
          args: parse(r.args),
          metadata: parse(r.metadata),
          errors: r.errors === null ? null : parse(r.errors),
          priority: r.priority,
          attempt: r.attempt,
          maxAttempts: r.maxAttempts,
          runAt: new Date(r.runAt),
          createdAt: new Date(r.createdAt),
          finalizedAt: date(r.finalizedAt),
        });
        if (out.length === limit) return false;
      }
      return true;
    });
    return out;
  }

  async #counts(s: RedisSession): Promise<{ queue: string; state: JobState; count: number }[]> {
    const flat = (await s.port.command(['HGETALL', `${this.#p}:counts`])) as string[];
    const out: { queue: string; state: JobState; count: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const n = Number(flat[i + 1]);
      if (n <= 0) continue;
      const field = String(flat[i]);
      const cut = field.indexOf('|');
      out.push({ state: field.slice(0, cut) as JobState, queue: field.slice(cut + 1), count: n });
    }
    return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  }

  async countJobs(s: RedisSession): Promise<JobCount[]> {
    return this.#counts(s);
  }

  /** One page, with the scan budget and `next` rule of the other backends. */
  async #page(s: RedisSession, f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, extra: ((r: RedisJobRow) => boolean) | null): Promise<{ rows: RedisJobRow[]; next: string | null }> {
    // Anything but states costs scan budget: only the state has an index here (as on SQL, where kind and queue have none either).
    const budgeted = f.kinds !== null || f.queues !== null || f.createdFrom !== null || f.createdTo !== null || f.json.length > 0 || extra !== null;
    const rows: RedisJobRow[] = [];
    let examined = 0;
    let next: string | null = null;
    await this.#walk(s, this.#index(f.states), cursor, true, (chunk) => {
      for (const r of chunk) {
        if (!f.states.includes(r.state)) continue;
        examined++;
        if (matches(r, f) && (extra === null || extra(r))) rows.push(r);
        if (rows.length === limit) {
          next = r.id;
          return false;
        }
        if (budgeted && examined === scanLimit) {
          next = r.id;
          return false;
        }
      }
      return true;
    });
    return { rows, next };
  }

  async searchJobs(s: RedisSession, params: SearchJobsParams): Promise<JobPage> {
    const p = checkSearch(params, isUuidV7);
    const page = await this.#page(s, p.filter, p.cursor, p.limit, p.scanLimit, null);
    return { jobs: page.rows.map(summary), next: page.next };
  }

  async countMatching(s: RedisSession, filter: JobFilter, options: { max: number }): Promise<MatchCount> {
    const f = checkFilter(filter);
    const max = checkInt('countMatching: max', options?.max, null, 1, MAX_BULK);
    let n = 0;
    await this.#walk(s, this.#index(f.states), null, true, (rows) => {
      for (const r of rows) if (matches(r, f) && ++n > max) return false;
      return true;
    });
    return { count: Math.min(n, max), capped: n > max };
  }

  async jobDetail(s: RedisSession, id: string): Promise<JobDetail | null> {
    const [r] = await this.#read(s, [checkId('jobDetail: id', id, isUuidV7)]);
    if (!r) return null;
    return { ...summary(r), args: r.args, metadata: r.metadata, errors: normaliseErrors(parse(r.errors)), leaseExpiresAt: date(r.leaseExpiresAt), uniqueKey: r.uniqueKey };
  }

  async overviewCounts(s: RedisSession, options: OverviewOptions = {}): Promise<OverviewCount[]> {
    // Counts are kept exact in P:counts as jobs move, so exactUpTo is only checked.
    checkInt('overviewCounts: exactUpTo', options?.exactUpTo, 10_000, 1, 1_000_000);
    const counts: OverviewCount[] = (await this.#counts(s)).map((c) => ({ ...c, estimated: false }));
    const paused = ((await s.port.command(['SMEMBERS', `${this.#p}:paused`])) as string[]).map(String);
    for (const queue of paused) counts.push({ queue, state: 'paused', count: 1, estimated: false });
    return counts.sort((a, c) => (a.queue < c.queue ? -1 : a.queue > c.queue ? 1 : a.state < c.state ? -1 : a.state > c.state ? 1 : 0));
  }

  async throughput(s: RedisSession, params: ThroughputParams): Promise<ThroughputBucket[]> {
    const p = checkThroughput(params);
    if (p.untilMs <= p.sinceMs) return [];
    const counts: { bucket: number; state: string; n: number }[] = [];
    // One ZCOUNT per bucket and final state: each O(log n), whatever the table holds.
    for (let start = Math.floor(p.sinceMs / p.bucketMs) * p.bucketMs; start < p.untilMs; start += p.bucketMs) {
      const from = Math.max(start, p.sinceMs);
      const to = Math.min(start + p.bucketMs, p.untilMs);
      for (const state of FINAL_STATES) {
        const n = Number(await s.port.command(['ZCOUNT', `${this.#p}:done:${state}`, from, `(${to}`]));
        if (n > 0) counts.push({ bucket: Math.floor(start / p.bucketMs), state, n });
      }
    }
    return fillBuckets(p, counts);
  }

  async runningJobs(s: RedisSession, limit: number): Promise<RunningJob[]> {
    const n = checkInt('runningJobs: limit', limit, null, 1, MAX_PAGE);
    const ids = (await s.port.command(['ZREVRANGEBYLEX', `${this.#p}:state:running`, '+', '-', 'LIMIT', 0, n])) as string[];
    return (await this.#read(s, ids.map(String)))
      .filter((r) => r.state === 'running')
      .map((r) => ({
        id: r.id,
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

  async applyAction(
    db: DispatcherAccess<RedisSession>,
    action: JobAction,
    target: JobTarget,
    now: Date | null,
  ): Promise<string[]> {
    const a = checkAction(action);
    const tg = checkTarget(target, isUuidV7);
    const s = db.autocommit;
    const act = async (ids: readonly string[]): Promise<string[]> =>
      ids.length === 0 ? [] : ((await s.port.run(actScript, this.#keys, [now === null ? '' : now.getTime(), a, ...ids])) as string[]).map(String);
    if ('ids' in tg) return (await act(tg.ids)).sort().reverse();
    const states = tg.filter.states.filter((st) => ACTION_STATES[a].includes(st));
    if (states.length === 0) return [];
    const filter = { ...tg.filter, states };
    const t = now?.getTime() ?? Date.now();
    const due = a === 'runNow' ? (r: RedisJobRow) => r.runAt > t : null;
    const changed: string[] = [];
    let cursor: string | null = null;
    while (changed.length < tg.max) {
      const page: { rows: RedisJobRow[]; next: string | null } = await this.#page(s, filter, cursor, Math.min(BULK_BATCH, tg.max - changed.length), DEFAULT_SCAN, due);
      changed.push(...(await act(page.rows.map((r) => r.id))));
      if (page.next === null) break;
      cursor = page.next;
    }
    return changed;
  }
}
