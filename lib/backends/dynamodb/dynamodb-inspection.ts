/**
 * Inspection and operator actions of the DynamoDB backend (testing helpers, CLI, dashboard), with
 * the paging, scan budget and action rules of the other backends (lib/backend/inspection.ts).
 * Lists walk the `state` index (state-walk.ts); filters on queue, kind and creation time are
 * answered from what it projects, JSON path filters read the items (BatchGetItem, 100 a call).
 *
 * Costs: a page reads its window of index entries (about 60 bytes each: 0.5 read unit per
 * ~65 entries) plus the full items it returns. `countJobs` and `overviewCounts` read every entry
 * of the `state` index: DynamoDB keeps no per-group statistics, so they are exact and cost about
 * 0.5 read unit per 65 jobs in the table (retention keeps that bounded).
 *
 * @internal
 */
import type { DispatcherAccess, JobCount, ListedJob, ListJobsFilter } from '../../backend/backend.ts';
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
  JOB_STATES,
  jsonHolds,
  MAX_BULK,
  MAX_PAGE,
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
import { moveFrom, readJob, retryJob } from './dynamodb-finish.ts';
import type { DynamoOps } from './dynamodb-ops.ts';
import { fromDocument, type DynamoSession } from './dynamodb-session.ts';
import { decodeJob, liveUniqueKey, N, parsedErrors, S, transition, type Item, type JobItem } from './item-codec.ts';
import { StateWalk, type StateEntry } from './state-walk.ts';
import { INDEX, PAUSED_PK } from './table-definition.ts';

type DispatcherDb = DispatcherAccess<DynamoSession>;

function cheap(e: StateEntry, f: CheckedFilter): boolean {
  if (f.kinds !== null && !f.kinds.includes(e.kind)) return false;
  if (f.queues !== null && !f.queues.includes(e.queue)) return false;
  if (f.createdFrom !== null && e.createdAt < f.createdFrom) return false;
  if (f.createdTo !== null && e.createdAt >= f.createdTo) return false;
  return true;
}

function jsonOk(j: JobItem, f: CheckedFilter): boolean {
  if (f.json.length === 0) return true;
  const args = parseStoredJson(j.args);
  const metadata = parseStoredJson(j.metadata);
  return f.json.every((m) => jsonHolds(m.column === 'args' ? args : metadata, m));
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

function summary(j: JobItem): JobSummary {
  const errors = parsedErrors(j);
  const last = errors?.at(-1);
  return {
    id: j.id,
    queue: j.queue,
    kind: j.kind,
    state: j.state,
    priority: j.priority,
    attempt: j.attempt,
    maxAttempts: j.maxAttempts,
    runAt: new Date(j.runAt),
    createdAt: new Date(j.createdAt),
    attemptedAt: date(j.attemptedAt),
    finalizedAt: date(j.finalizedAt),
    lockedBy: j.lockedBy,
    lastError: typeof last?.message === 'string' ? last.message.slice(0, 1_024) : null,
  };
}

const newestFirst = (a: string, b: string): number => (a < b ? 1 : a > b ? -1 : 0);

export class DynamoInspection {
  readonly opsOf: (s: DynamoSession) => DynamoOps;
  readonly shards: number;
  constructor(opsOf: (s: DynamoSession) => DynamoOps, shards: number) {
    this.opsOf = opsOf;
    this.shards = shards;
  }

  /** Full items of `ids`, in the order of `ids` (missing ones left out). */
  async #items(ops: DynamoOps, ids: readonly string[]): Promise<JobItem[]> {
    const got = new Map((await ops.batchGet(ids.map((id) => `j#${id}`))).map((it) => [it['id']?.S ?? '', decodeJob(it)]));
    return ids.map((id) => got.get(id)).filter((j): j is JobItem => j !== undefined);
  }

  /** One page, with the scan budget and `next` rule of the SQL dialects. */
  async #page(ops: DynamoOps, f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, extra: ((j: JobItem) => boolean) | null): Promise<{ rows: JobItem[]; next: string | null }> {
    const hasResidual = f.kinds !== null || f.queues !== null || f.createdFrom !== null || f.createdTo !== null || f.json.length > 0 || extra !== null;
    const size = hasResidual ? scanLimit : limit;
    const walk = new StateWalk(ops, f.states, this.shards, 'newest', cursor);
    const rows: JobItem[] = [];
    let seen = 0;
    let last: string | null = null;
    while (rows.length < limit && seen < size) {
      const chunk = await walk.take(Math.min(100, size - seen));
      if (chunk.length === 0) break;
      seen += chunk.length;
      last = chunk[chunk.length - 1]!.id;
      const items = await this.#items(ops, chunk.filter((e) => cheap(e, f)).map((e) => e.id));
      for (const j of items) {
        // The index is read eventually consistent: the item's own state decides.
        if (rows.length < limit && f.states.includes(j.state) && jsonOk(j, f) && (extra === null || extra(j))) rows.push(j);
      }
    }
    let next: string | null = null;
    if (rows.length === limit) next = rows[rows.length - 1]!.id;
    else if (seen === size) next = last;
    return { rows, next };
  }

  async searchJobs(s: DynamoSession, params: SearchJobsParams): Promise<JobPage> {
    const p = checkSearch(params, isUuidV7);
    const page = await this.#page(this.opsOf(s), p.filter, p.cursor, p.limit, p.scanLimit, null);
    return { jobs: page.rows.map(summary), next: page.next };
  }

  async countMatching(s: DynamoSession, filter: JobFilter, options: { max: number }): Promise<MatchCount> {
    const f = checkFilter(filter);
    const max = checkInt('countMatching: max', options?.max, null, 1, MAX_BULK);
    const ops = this.opsOf(s);
    let count = 0;
    let cursor: string | null = null;
    for (;;) {
      const page: { rows: JobItem[]; next: string | null } = await this.#page(ops, f, cursor, Math.min(max + 1 - count, 1000), DEFAULT_SCAN, null);
      count += page.rows.length;
      if (count > max || page.next === null) break;
      cursor = page.next;
    }
    return { count: Math.min(count, max), capped: count > max };
  }

  async jobDetail(s: DynamoSession, id: string): Promise<JobDetail | null> {
    const j = await readJob(this.opsOf(s), checkId('jobDetail: id', id, isUuidV7));
    if (!j) return null;
    return { ...summary(j), args: j.args, metadata: j.metadata, errors: normaliseErrors(parsedErrors(j)), leaseExpiresAt: date(j.leaseExpiresAt), uniqueKey: liveUniqueKey(j) };
  }

  /** Every entry of the `state` index for `states` (queue and state of every job). */
  async #all(ops: DynamoOps, states: readonly JobState[]): Promise<{ queue: string; state: JobState }[]> {
    const reads = await Promise.all(
      states.flatMap((state) =>
        Array.from({ length: this.shards }, async (_, sh) =>
          (await ops.query({ IndexName: INDEX.state, KeyConditionExpression: 'xs = :xs', ExpressionAttributeValues: { ':xs': S(`${state}#${sh}`) }, ProjectionExpression: 'q' }, null)).map((it) => ({
            queue: it['q']?.S ?? '',
            state,
          })),
        ),
      ),
    );
    return reads.flat();
  }

  async countJobs(s: DynamoSession): Promise<JobCount[]> {
    const counts = new Map<string, JobCount>();
    for (const e of await this.#all(this.opsOf(s), JOB_STATES)) {
      const key = JSON.stringify([e.queue, e.state]);
      const c = counts.get(key) ?? { queue: e.queue, state: e.state, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  }

  async overviewCounts(s: DynamoSession, options: OverviewOptions = {}): Promise<OverviewCount[]> {
    checkInt('overviewCounts: exactUpTo', options?.exactUpTo, 10_000, 1, 1_000_000);
    const ops = this.opsOf(s);
    // Exact whatever exactUpTo says: DynamoDB keeps no statistics to estimate from (see the module's costs).
    const out: OverviewCount[] = (await this.countJobs(s)).map((c) => ({ ...c, estimated: false }));
    const paused = await ops.get(PAUSED_PK, true);
    for (const queue of paused?.['qs']?.SS ?? []) out.push({ queue, state: 'paused', count: 1, estimated: false });
    return out.sort((a, c) => (a.queue < c.queue ? -1 : a.queue > c.queue ? 1 : a.state < c.state ? -1 : a.state > c.state ? 1 : 0));
  }

  async throughput(s: DynamoSession, params: ThroughputParams): Promise<ThroughputBucket[]> {
    const p = checkThroughput(params);
    if (p.untilMs <= p.sinceMs) return [];
    const ops = this.opsOf(s);
    const reads = await Promise.all(
      FINAL_STATES.flatMap((state) =>
        Array.from({ length: this.shards }, async (_, sh) =>
          (
            await ops.query(
              {
                IndexName: INDEX.fin,
                KeyConditionExpression: 'fp = :fp AND fa BETWEEN :since AND :last',
                ExpressionAttributeValues: { ':fp': S(`${state}#${sh}`), ':since': N(p.sinceMs), ':last': N(p.untilMs - 1) },
              },
              null,
            )
          ).map((it) => ({ bucket: Math.floor(Number(it['fa']?.N) / p.bucketMs), state, n: 1 })),
        ),
      ),
    );
    return fillBuckets(p, reads.flat());
  }

  async runningJobs(s: DynamoSession, limit: number): Promise<RunningJob[]> {
    const n = checkInt('runningJobs: limit', limit, null, 1, MAX_PAGE);
    const ops = this.opsOf(s);
    const page = await this.#page(ops, { states: ['running'], kinds: null, queues: null, createdFrom: null, createdTo: null, json: [] }, null, n, n, null);
    return page.rows.map((j) => ({
      id: j.id,
      queue: j.queue,
      kind: j.kind,
      attempt: j.attempt,
      maxAttempts: j.maxAttempts,
      runAt: new Date(j.runAt),
      lockedBy: j.lockedBy,
      attemptedAt: date(j.attemptedAt),
      leaseExpiresAt: date(j.leaseExpiresAt),
    }));
  }

  async listJobs(s: DynamoSession, filter: ListJobsFilter): Promise<ListedJob[]> {
    const ops = this.opsOf(s);
    const limit = Math.max(1, Math.min(Math.trunc(filter.limit ?? 1000), 100_000));
    const states = filter.state === undefined ? JOB_STATES : [filter.state];
    const walk = new StateWalk(ops, states, this.shards, 'oldest', null);
    const keep = (j: { kind: string; queue: string }) => (filter.kind === undefined || j.kind === filter.kind) && (filter.queue === undefined || j.queue === filter.queue);
    const ids: string[] = [];
    while (ids.length < limit) {
      const e = await walk.next();
      if (!e) break;
      if (keep(e)) ids.push(e.id);
    }
    const jobs = (await this.#items(ops, ids)).filter((j) => filter.state === undefined || j.state === filter.state);
    // A list sees its own jobs before it is sent, as a SQL transaction sees its own rows.
    for (const j of pendingJobs(s)) if (keep(j) && (filter.state === undefined || j.state === filter.state)) jobs.push(j);
    return jobs.slice(0, limit).map((j) => ({
      id: j.id,
      queue: j.queue,
      kind: j.kind,
      state: j.state,
      args: parseStoredJson(j.args) ?? j.args,
      metadata: j.metadata === null ? null : (parseStoredJson(j.metadata) ?? j.metadata),
      errors: parsedErrors(j),
      priority: j.priority,
      attempt: j.attempt,
      maxAttempts: j.maxAttempts,
      runAt: new Date(j.runAt),
      createdAt: new Date(j.createdAt),
      finalizedAt: date(j.finalizedAt),
    }));
  }

  async applyAction(db: DispatcherDb, action: JobAction, target: JobTarget, now: Date | null): Promise<string[]> {
    const a = checkAction(action);
    const tg = checkTarget(target, isUuidV7);
    const t = (now ?? new Date()).getTime();
    const ops = this.opsOf(db.autocommit);
    if ('ids' in tg) return (await this.#act(ops, a, tg.ids, t)).sort(newestFirst);
    const states = tg.filter.states.filter((st) => ACTION_STATES[a].includes(st));
    if (states.length === 0) return [];
    const filter = { ...tg.filter, states };
    const due = a === 'runNow' ? (j: JobItem) => j.runAt > t : null;
    const changed: string[] = [];
    let cursor: string | null = null;
    while (changed.length < tg.max) {
      const page: { rows: JobItem[]; next: string | null } = await this.#page(ops, filter, cursor, Math.min(BULK_BATCH, tg.max - changed.length), DEFAULT_SCAN, due);
      changed.push(...(await this.#act(ops, a, page.rows.map((j) => j.id), t)));
      if (page.next === null) break;
      cursor = page.next;
    }
    return changed;
  }

  /** Applies `action` to each job (read first; every write conditioned on what was read). Returns the ids changed, in the given order. */
  async #act(ops: DynamoOps, action: JobAction, ids: readonly string[], t: number): Promise<string[]> {
    const jobs = await this.#items(ops, ids);
    const done = await Promise.all(
      jobs.map(async (j) => {
        if (!ACTION_STATES[action].includes(j.state)) return false;
        if (action === 'runNow' && !(j.runAt > t)) return false;
        switch (action) {
          case 'delete':
            return ops.deleteJob(j.id, 'st = :st', { ':st': S(j.state) });
          case 'retry':
            return retryJob(ops, this.shards, j, t);
          case 'cancel':
            return (await moveFrom(ops, this.shards, j, 'cancelled', t)) !== null;
          case 'discard':
            return (await moveFrom(ops, this.shards, j, 'discarded', t)) !== null;
          case 'runNow': {
            const tr = transition(j, 'available', this.shards, t, { ':avail': S('available'), ':seen_ra': N(j.runAt), ':ra': N(t) }, { runAt: t, set: ['ra = :ra'] });
            return (await ops.update(`j#${j.id}`, tr.expression, 'st = :avail AND ra = :seen_ra', tr.values)) !== null;
          }
        }
      }),
    );
    return jobs.filter((_, i) => done[i]).map((j) => j.id);
  }
}

/** The jobs a bound session's list will insert when sent (either item shape). */
function pendingJobs(s: DynamoSession): JobItem[] {
  if (!s.items) return [];
  const out: JobItem[] = [];
  for (const entry of s.items) {
    const put = (entry as { Put?: { Item?: Record<string, unknown> } }).Put?.Item;
    if (!put) continue;
    const item = (s.shape === 'document' ? fromDocument(put) : put) as Item;
    if (typeof item['pk']?.S === 'string' && item['pk'].S.startsWith('j#')) out.push(decodeJob(item));
  }
  return out;
}
