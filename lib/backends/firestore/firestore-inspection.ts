/**
 * Inspection and operator actions on Firestore (inspection.ts has the contract): lists walk the
 * `(shard, state, id)` index newest first (firestore-scan.ts) with the same scan budget and
 * `next` rule as SQL — except that a filter naming up to 10 queues walks `(shard, queue, state,
 * id)`, so only those queues' jobs count toward the budget; counts are Firestore `count()` aggregations (billed one document read per
 * 1,000 index entries counted); JSON path filters, kinds, queues and creation times are checked
 * on the documents read, each of which counts toward the scan budget.
 *
 * @internal
 */
import type { Firestore } from '@google-cloud/firestore';
import type { JobCount, ListedJob, ListJobsFilter } from '../../backend/backend.ts';
import {
  ACTION_STATES,
  BULK_BATCH,
  DEFAULT_SCAN,
  FINAL_STATES,
  JOB_STATES,
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
import { isUuidV7 } from '../../job-id.ts';
import type { JobState } from '../../job.ts';
import { allShards, docIdOf, enter, listedOf, readJob, type JobDoc } from './firestore-codec.ts';
import { chunks, TX_BATCH } from './firestore-finish.ts';
import { pausedQueues } from './firestore-operator.ts';
import { distinctQueues, scanJobs } from './firestore-scan.ts';
import type { FirestoreCollections } from './firestore-session.ts';

function residual(j: JobDoc, f: CheckedFilter): boolean {
  if (f.kinds !== null && !f.kinds.includes(j.kind)) return false;
  if (f.queues !== null && !f.queues.includes(j.queue)) return false;
  if (f.createdFrom !== null && j.created_at < f.createdFrom) return false;
  if (f.createdTo !== null && j.created_at >= f.createdTo) return false;
  if (f.json.length === 0) return true;
  const args = parseStoredJson(j.args);
  const metadata = parseStoredJson(j.metadata);
  return f.json.every((m) => jsonHolds(m.column === 'args' ? args : metadata, m));
}

function hasResidual(f: CheckedFilter): boolean {
  return f.kinds !== null || f.queues !== null || f.createdFrom !== null || f.createdTo !== null || f.json.length > 0;
}

/**
 * The filter's queues, when few enough to query each: the walk then reads only their jobs, so on
 * Firestore the scan budget counts the rows of those queues (a queue filter narrows the index
 * range, as kinds and the other conditions do not).
 */
function pushedQueues(f: CheckedFilter): string[] | null {
  return f.queues !== null && f.queues.length <= 10 ? f.queues : null;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

function summary(j: JobDoc): JobSummary {
  const errors = normaliseErrors(j.errors);
  const last = errors.at(-1);
  return {
    id: j.id,
    queue: j.queue,
    kind: j.kind,
    state: j.state,
    priority: j.priority,
    attempt: j.attempt,
    maxAttempts: j.max_attempts,
    runAt: new Date(j.run_at),
    createdAt: new Date(j.created_at),
    attemptedAt: date(j.attempted_at),
    finalizedAt: date(j.finalized_at),
    lockedBy: j.locked_by,
    lastError: last ? last.message.slice(0, 1_024) : null,
  };
}

const newestFirst = (a: string, b: string): number => (a < b ? 1 : a > b ? -1 : 0);

export class FirestoreInspection {
  readonly #db: Firestore;
  readonly #c: FirestoreCollections;
  readonly #shards: number;

  constructor(db: Firestore, c: FirestoreCollections, shards: number) {
    this.#db = db;
    this.#c = c;
    this.#shards = shards;
  }

  /** One page newest first, with the scan budget and `next` rule of the SQL dialects. */
  async #page(f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, extra: ((j: JobDoc) => boolean) | null): Promise<{ rows: JobDoc[]; next: string | null }> {
    const size = hasResidual(f) || extra !== null ? scanLimit : limit;
    const rows: JobDoc[] = [];
    let examined = 0;
    let last: string | null = null;
    for await (const j of scanJobs(this.#c, this.#shards, { states: f.states, order: 'desc', after: cursor, page: Math.min(size, 300), queues: pushedQueues(f) })) {
      examined++;
      last = j.id;
      if (residual(j, f) && (extra === null || extra(j))) rows.push(j);
      if (rows.length === limit || examined === size) break;
    }
    let next: string | null = null;
    if (rows.length === limit) next = rows[rows.length - 1]!.id;
    else if (examined === size) next = last;
    return { rows, next };
  }

  async listJobs(filter: ListJobsFilter): Promise<ListedJob[]> {
    const limit = Math.max(1, Math.min(Math.trunc(filter.limit ?? 1000), 100_000));
    const out: ListedJob[] = [];
    const states = filter.state ? [filter.state] : JOB_STATES;
    const queues = filter.queue === undefined ? null : [filter.queue];
    for await (const j of scanJobs(this.#c, this.#shards, { states, order: 'asc', after: null, page: 500, queues })) {
      if ((filter.kind !== undefined && j.kind !== filter.kind) || (filter.queue !== undefined && j.queue !== filter.queue)) continue;
      out.push(listedOf(j));
      if (out.length === limit) break;
    }
    return out;
  }

  /** Exact counts per (queue, state), from `count()` aggregations. */
  async #counts(): Promise<{ queue: string; state: JobState; count: number }[]> {
    const queues = await distinctQueues(this.#c, this.#shards);
    const groups = queues.flatMap((queue) => JOB_STATES.map((state) => ({ queue, state })));
    const counted = await Promise.all(
      groups.map(async (g) => {
        const q = this.#c.jobs.where('shard', 'in', allShards(this.#shards)).where('queue', '==', g.queue).where('state', '==', g.state);
        return { ...g, count: (await q.count().get()).data().count };
      }),
    );
    return counted.filter((g) => g.count > 0);
  }

  async countJobs(): Promise<JobCount[]> {
    const order = (a: JobCount, b: JobCount) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0);
    return (await this.#counts()).sort(order);
  }

  async searchJobs(params: SearchJobsParams): Promise<JobPage> {
    const p = checkSearch(params, isUuidV7);
    const page = await this.#page(p.filter, p.cursor, p.limit, p.scanLimit, null);
    return { jobs: page.rows.map(summary), next: page.next };
  }

  async countMatching(filter: JobFilter, options: { max: number }): Promise<MatchCount> {
    const f = checkFilter(filter);
    const max = checkInt('countMatching: max', options?.max, null, 1, MAX_BULK);
    if (!hasResidual(f)) {
      // States alone: one count() per state, each stopping past max.
      let n = 0;
      for (const state of f.states) {
        const q = this.#c.jobs.where('shard', 'in', allShards(this.#shards)).where('state', '==', state).limit(max + 1 - n);
        n += (await q.count().get()).data().count;
        if (n > max) break;
      }
      return { count: Math.min(n, max), capped: n > max };
    }
    let n = 0;
    for await (const j of scanJobs(this.#c, this.#shards, { states: f.states, order: 'desc', after: null, page: 500, queues: pushedQueues(f) })) {
      if (residual(j, f) && ++n > max) break;
    }
    return { count: Math.min(n, max), capped: n > max };
  }

  async jobDetail(id: string): Promise<JobDetail | null> {
    const j = readJob(await this.#c.jobs.doc(docIdOf(checkId('jobDetail: id', id, isUuidV7))).get());
    if (!j) return null;
    return { ...summary(j), args: j.args, metadata: j.metadata, errors: normaliseErrors(j.errors), leaseExpiresAt: date(j.lease_expires_at), uniqueKey: j.unique_key };
  }

  async overviewCounts(options: OverviewOptions = {}): Promise<OverviewCount[]> {
    // Firestore's count() is exact at any size (and cheap: a read per 1,000 entries), so nothing is estimated.
    checkInt('overviewCounts: exactUpTo', options?.exactUpTo, 10_000, 1, 1_000_000);
    const [counts, paused] = await Promise.all([this.#counts(), pausedQueues(this.#c)]);
    const out: OverviewCount[] = counts.map((g) => ({ ...g, estimated: false }));
    for (const queue of paused) out.push({ queue, state: 'paused', count: 1, estimated: false });
    return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  }

  async throughput(params: ThroughputParams): Promise<ThroughputBucket[]> {
    const p = checkThroughput(params);
    if (p.untilMs <= p.sinceMs) return [];
    const counts: { bucket: number; state: string; n: number }[] = [];
    for (const state of FINAL_STATES) {
      const range = this.#c.jobs.where('shard', 'in', allShards(this.#shards)).where('state', '==', state).where('finalized_at', '>=', p.sinceMs).where('finalized_at', '<', p.untilMs);
      const total = (await range.count().get()).data().count;
      if (total === 0) continue;
      if (total <= 5_000) {
        // Few enough to read their finish times (one read each) instead of one count() per bucket.
        for (const d of (await range.select('finalized_at').get()).docs) counts.push({ bucket: Math.floor(Number(d.get('finalized_at')) / p.bucketMs), state, n: 1 });
        continue;
      }
      const first = Math.floor(p.sinceMs / p.bucketMs);
      const last = Math.ceil(p.untilMs / p.bucketMs);
      const buckets = Array.from({ length: last - first }, (_, i) => first + i);
      for (const group of chunks(buckets, 20)) {
        await Promise.all(
          group.map(async (b) => {
            const from = Math.max(b * p.bucketMs, p.sinceMs);
            const to = Math.min((b + 1) * p.bucketMs, p.untilMs);
            const q = this.#c.jobs.where('shard', 'in', allShards(this.#shards)).where('state', '==', state).where('finalized_at', '>=', from).where('finalized_at', '<', to);
            counts.push({ bucket: b, state, n: (await q.count().get()).data().count });
          }),
        );
      }
    }
    return fillBuckets(p, counts);
  }

  async runningJobs(limit: number): Promise<RunningJob[]> {
    const n = checkInt('runningJobs: limit', limit, null, 1, MAX_PAGE);
    const out: RunningJob[] = [];
    for await (const j of scanJobs(this.#c, this.#shards, { states: ['running'], order: 'desc', after: null, page: n })) {
      out.push({ id: j.id, queue: j.queue, kind: j.kind, attempt: j.attempt, maxAttempts: j.max_attempts, runAt: new Date(j.run_at), lockedBy: j.locked_by, attemptedAt: date(j.attempted_at), leaseExpiresAt: date(j.lease_expires_at) });
      if (out.length === n) break;
    }
    return out;
  }

  async applyAction(action: JobAction, target: JobTarget, now: Date | null): Promise<string[]> {
    const a = checkAction(action);
    const tg = checkTarget(target, isUuidV7);
    const t = (now ?? new Date()).getTime();
    if ('ids' in tg) return (await this.#act(a, tg.ids, t)).sort(newestFirst);
    const states = tg.filter.states.filter((s) => ACTION_STATES[a].includes(s));
    if (states.length === 0) return [];
    const filter = { ...tg.filter, states };
    const due = a === 'runNow' ? (j: JobDoc) => j.run_at > t : null;
    const changed: string[] = [];
    let cursor: string | null = null;
    while (changed.length < tg.max) {
      const page: { rows: JobDoc[]; next: string | null } = await this.#page(filter, cursor, Math.min(BULK_BATCH, tg.max - changed.length), DEFAULT_SCAN, due);
      changed.push(...(await this.#act(a, page.rows.map((j) => j.id), t)).sort(newestFirst));
      if (page.next === null) break;
      cursor = page.next;
    }
    return changed;
  }

  /** Applies `action` to each job still in a state it applies to, a transaction per batch. */
  async #act(action: JobAction, ids: readonly string[], t: number): Promise<string[]> {
    const changed: string[] = [];
    for (const group of chunks(ids, TX_BATCH)) {
      const done = await this.#db.runTransaction(async (tx) => {
        const snaps = await tx.getAll(...group.map((id) => this.#c.jobs.doc(docIdOf(id))));
        const out: string[] = [];
        for (const s of snaps) {
          const j = readJob(s);
          if (!j || !ACTION_STATES[action].includes(j.state)) continue;
          if (action === 'runNow' && !(j.run_at > t)) continue;
          if (action === 'delete') tx.delete(s.ref);
          else if (action === 'retry') tx.update(s.ref, { ...enter(j, 'available'), attempt: 0, run_at: t, finalized_at: null, lease_expires_at: null });
          else if (action === 'cancel' || action === 'discard') tx.update(s.ref, { ...enter(j, action === 'cancel' ? 'cancelled' : 'discarded'), finalized_at: t, lease_expires_at: null });
          else tx.update(s.ref, { run_at: t });
          out.push(j.id);
        }
        return out;
      }, { maxAttempts: 10 });
      changed.push(...done);
    }
    return changed;
  }
}
