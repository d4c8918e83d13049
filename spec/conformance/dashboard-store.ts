/**
 * Conformance tests of the dashboard's storage layer: the dialects' inspection and operator
 * methods (lib/backend/inspection.ts), run by {@link exerciseAdapter} for every adapter ×
 * database pair on the real database. Each test works in queues of its own, so the rows other
 * tests leave in the shared table never match.
 */
import { expect } from 'vitest';
import { defineJob, FakeClock, type JobDefinition, type JobState, type JsonObject } from '../../lib/index.ts';
import { InvalidFilterError, InvalidOptionError } from '../../lib/errors.ts';
import type { Fence } from '../../lib/job.ts';
import type { JobFilter, JobPage, SearchJobsParams } from '../../lib/backend/inspection.ts';
import type { SuiteContext } from './unique-jobs.ts';

/** One job to create, and the state to bring it to. `scheduled` is available and due in an hour. */
interface Seed {
  kind?: string;
  state: JobState | 'scheduled';
  args?: JsonObject;
  metadata?: JsonObject;
  error?: string;
  /** When the job finishes (completed, discarded, cancelled). Default: the clock's now. */
  finishAt?: Date;
}

/** Newest first, exactly, whatever the size of the ids: decimal ids by value, client-made ids (UUIDv7) as text. */
function newestFirst(ids: readonly string[]): string[] {
  const decimal = ids.every((id) => /^\d+$/.test(id));
  const older = (a: string, b: string): boolean => (decimal ? BigInt(a) < BigInt(b) : a < b);
  return [...ids].sort((a, b) => (older(a, b) ? 1 : older(b, a) ? -1 : 0));
}

/** An id of the backend's own form that names no job. */
function missingId(s: SuiteContext): string {
  const h = s.harness();
  return h.adapter.backend({ table: h.table }).capabilities.ids === 'store' ? '9223372036854775807' : '00000000-0000-7000-8000-000000000000';
}

export function dashboardStoreTests(s: SuiteContext): void {
  const { test, sqlTest } = s;
  const T0 = Date.UTC(2036, 4, 6, 7, 8, 9, 10);

  /** The dialect under test and the executors the dashboard would use. */
  function setup(clock = new FakeClock(T0), kinds: string[] = ['dash_a', 'dash_b']) {
    const h = s.harness();
    const defs = new Map<string, JobDefinition<JsonObject>>(kinds.map((k) => [k, defineJob(k, { handler: async (_a: JsonObject) => {} })]));
    const jobs = s.client([...defs.values()] as never, { clock });
    const d = jobs.backend;
    const ex = h.adapter.autocommit();
    const db = jobs.dispatcherDb();
    const search = (params: SearchJobsParams) => d.searchJobs(ex, params);

    /** Creates the jobs in `queue` (one transaction), brings each to its state, returns their ids in order. */
    async function seed(queue: string, seeds: Seed[]): Promise<string[]> {
      const requests = seeds.map((x) =>
        defs.get(x.kind ?? kinds[0]!)!(x.args ?? {}, {
          queue,
          ...(x.metadata && { metadata: x.metadata }),
          ...(x.state === 'scheduled' && { delayMs: 3_600_000 }),
        }),
      );
      const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, requests as never));
      const now = clock.now();
      const claimed = await d.claim(db, { queues: [queue], limit: 1000, workerId: 'dash-worker', leaseMs: 600_000, now });
      const fence = new Map<string, Fence>(claimed.map((c) => [c.id, { id: c.id, token: c.leaseToken }]));
      // Due jobs of an earlier seed of this queue were claimed too: give them back as they were.
      const foreign = claimed.filter((c) => !ids.includes(c.id)).map((c) => fence.get(c.id)!);
      if (foreign.length > 0) expect(await d.release(db, foreign, now)).toBe(foreign.length);
      for (const [i, x] of seeds.entries()) {
        const f = fence.get(ids[i]!);
        if (x.state === 'scheduled') continue;
        if (!f) throw new Error(`seed: job ${ids[i]} was not claimed`);
        const at = x.finishAt ?? now;
        if (x.state === 'available') await d.release(db, [f], now);
        else if (x.state === 'completed') expect(await d.complete(db, [f], at)).toEqual(new Set([f.id]));
        else if (x.state === 'discarded' || x.state === 'cancelled') {
          const errorJson = x.state === 'discarded' ? JSON.stringify({ at: at.toISOString(), message: x.error ?? 'boom', attempt: 1 }) : null;
          expect(await d.fail(db, { ...f, to: x.state, delayMs: 0, errorJson, now: at })).toBe(true);
        }
      }
      return ids;
    }

    /**
     * Every id matching `filter`, walking the pages (with this page size and scan budget), to the
     * end or, with `until`, to the first page that goes on below that id (a small budget would
     * otherwise walk the rows every other test left, a few at a time).
     */
    async function walk(filter: JobFilter, limit: number, scanLimit?: number, until?: string): Promise<{ ids: string[]; pages: JobPage[] }> {
      const pages: JobPage[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 1000; i++) {
        const page: JobPage = await search({ filter, cursor, limit, ...(scanLimit !== undefined && { scanLimit }) });
        pages.push(page);
        if (page.next === null || (until !== undefined && newestFirst([page.next, until])[0] === until && page.next !== until)) break;
        cursor = page.next;
      }
      return { ids: pages.flatMap((p) => p.jobs.map((j) => j.id)), pages };
    }

    /** A job request of one of this client's kinds. */
    const make = (args: JsonObject, queue: string, kind = kinds[0]!) => defs.get(kind)!(args, { queue });

    return { h, jobs, d, ex, db, clock, search, seed, walk, make };
  }

  test('dashboard store: lists filter by state, kind, queue and creation time, newest first, with summaries', async () => {
    const clock = new FakeClock(T0);
    const { seed, search, walk } = setup(clock);
    const [avail, run, done, dead, gone, later] = await seed('dash_f1', [
      { kind: 'dash_a', state: 'available' },
      { kind: 'dash_b', state: 'running' },
      { kind: 'dash_a', state: 'completed' },
      { kind: 'dash_b', state: 'discarded', error: 'card declined' },
      { kind: 'dash_a', state: 'cancelled' },
      { kind: 'dash_b', state: 'scheduled' },
    ]);
    clock.set(T0 + 60_000);
    const [other] = await seed('dash_f2', [{ kind: 'dash_a', state: 'available' }]);
    const all = newestFirst([avail!, run!, done!, dead!, gone!, later!]);
    const ids = async (filter: JobFilter) => (await walk(filter, 100)).ids;

    expect(await ids({ queues: ['dash_f1'] })).toEqual(all);
    expect(await ids({ queues: ['dash_f1', 'dash_f2'] })).toEqual(newestFirst([...all, other!]));
    expect(await ids({ queues: ['dash_f1'], states: ['completed'] })).toEqual([done]);
    expect(await ids({ queues: ['dash_f1'], states: ['available'] })).toEqual(newestFirst([avail!, later!]));
    expect(await ids({ queues: ['dash_f1'], states: ['discarded', 'cancelled', 'running'] })).toEqual(newestFirst([run!, dead!, gone!]));
    expect(await ids({ queues: ['dash_f1'], kinds: ['dash_b'] })).toEqual(newestFirst([run!, dead!, later!]));
    expect(await ids({ queues: ['dash_f1'], kinds: ['dash_b'], states: ['discarded'] })).toEqual([dead]);
    expect(await ids({ queues: ['dash_f1'], kinds: ['dash_nothing'] })).toEqual([]);
    // Creation time: from is inclusive, to exclusive.
    expect(await ids({ queues: ['dash_f1', 'dash_f2'], createdFrom: T0 + 60_000 })).toEqual([other]);
    expect(await ids({ queues: ['dash_f1', 'dash_f2'], createdTo: T0 + 60_000 })).toEqual(all);
    expect(await ids({ queues: ['dash_f1', 'dash_f2'], createdFrom: T0, createdTo: T0 + 1 })).toEqual(all);

    // A budget past the shared table's size: kind and queue rejects count toward it.
    const page = await search({ filter: { queues: ['dash_f1'] }, scanLimit: 100_000 });
    expect(page.next).toBeNull();
    const byId = new Map(page.jobs.map((j) => [j.id, j]));
    expect(byId.get(dead!)).toEqual({
      id: dead,
      queue: 'dash_f1',
      kind: 'dash_b',
      state: 'discarded',
      priority: 0,
      attempt: 1,
      maxAttempts: 20,
      runAt: new Date(T0),
      createdAt: new Date(T0),
      attemptedAt: new Date(T0),
      finalizedAt: new Date(T0),
      lockedBy: 'dash-worker',
      lastError: 'card declined',
    });
    expect(byId.get(run!)).toMatchObject({ state: 'running', attempt: 1, lockedBy: 'dash-worker', finalizedAt: null, lastError: null });
    expect(byId.get(later!)).toMatchObject({ state: 'available', attempt: 0, runAt: new Date(T0 + 3_600_000), attemptedAt: null, lockedBy: null });
    expect(Object.keys(byId.get(avail!)!)).not.toContain('args');
  });

  test('dashboard store: JSON path filters on args and metadata match by type, nested, through arrays', async () => {
    const { seed, walk } = setup();
    const [j1, j2, j3, j4, j5] = await seed('dash_json', [
      { state: 'available', args: { user: { id: 42, name: 'Zoë' }, tags: ['red', 'blue'], paid: true, note: null, price: 1.5 }, metadata: { tenant: 'acme', region: { code: 'eu-1' } } },
      { state: 'completed', args: { user: { id: '42', name: 'zoë' }, tags: ['blue'], paid: false, price: 2 }, metadata: { tenant: 'Acme' } },
      { state: 'discarded', args: { user: { id: 43 }, tags: { '0': 'red' }, 'a-b': 'dash', n: 0 } },
      { state: 'available', args: { user: [{ id: 42 }], emoji: '😀 ok', quote: `it's "x" \\ y`, big: 12345678901 } },
      { state: 'available', args: { n: -0.25, paid: 'true' } },
    ]);
    const match = async (filter: Omit<JobFilter, 'queues'>) => (await walk({ queues: ['dash_json'], ...filter }, 100)).ids;
    const arg = (path: string[], value: string | number | boolean | null) => match({ args: [{ path, value }] });

    expect(await arg(['user', 'id'], 42)).toEqual([j1]);
    expect(await arg(['user', 'id'], '42')).toEqual([j2]);
    expect(await arg(['user', 'id'], 42.0)).toEqual([j1]);
    expect(await arg(['user', 'name'], 'Zoë')).toEqual([j1]); // case counts
    expect(await arg(['price'], 1.5)).toEqual([j1]);
    expect(await arg(['price'], 2)).toEqual([j2]);
    expect(await arg(['n'], -0.25)).toEqual([j5]);
    expect(await arg(['n'], 0)).toEqual([j3]);
    expect(await arg(['big'], 12345678901)).toEqual([j4]);
    expect(await arg(['paid'], true)).toEqual([j1]);
    expect(await arg(['paid'], false)).toEqual([j2]);
    expect(await arg(['paid'], 'true')).toEqual([j5]);
    // null matches a JSON null that is there, not a missing key.
    expect(await arg(['note'], null)).toEqual([j1]);
    // Array elements by index; a digit segment never reads an object key or a non-array.
    expect(await arg(['tags', '0'], 'red')).toEqual([j1]);
    expect(await arg(['tags', '1'], 'blue')).toEqual([j1]);
    expect(await arg(['tags', '0'], 'blue')).toEqual([j2]);
    expect(await arg(['user', '0', 'id'], 42)).toEqual([j4]);
    expect(await arg(['user', 'id', '0'], 42)).toEqual([]);
    expect(await arg(['tags', '5'], 'red')).toEqual([]);
    expect(await arg(['a-b'], 'dash')).toEqual([j3]);
    expect(await arg(['emoji'], '😀 ok')).toEqual([j4]);
    expect(await arg(['quote'], `it's "x" \\ y`)).toEqual([j4]);
    // An object or array is never equal to a scalar.
    expect(await arg(['user'], 42)).toEqual([]);
    // Metadata, nested; a job without metadata never matches.
    expect(await match({ metadata: [{ path: ['tenant'], value: 'acme' }] })).toEqual([j1]);
    expect(await match({ metadata: [{ path: ['region', 'code'], value: 'eu-1' }] })).toEqual([j1]);
    expect(await match({ metadata: [{ path: ['tenant'], value: null }] })).toEqual([]);
    // Conditions combine with AND, and with the other filters.
    expect(await match({ args: [{ path: ['tags', '0'], value: 'blue' }], metadata: [{ path: ['tenant'], value: 'Acme' }] })).toEqual([j2]);
    expect(await match({ args: [{ path: ['user', 'id'], value: 42 }, { path: ['paid'], value: false }] })).toEqual([]);
    expect(await match({ states: ['available'], args: [{ path: ['user', 'id'], value: 42 }] })).toEqual([j1]);
    expect(await match({ states: ['completed'], args: [{ path: ['user', 'id'], value: 42 }] })).toEqual([]);
  });

  test('dashboard store: keyset pages stay stable while jobs are inserted, and a scan budget pages through rare matches', async () => {
    const { seed, search, walk } = setup();
    const first = await seed('dash_page', Array.from({ length: 7 }, (_, i) => ({ state: i % 2 ? 'completed' : 'available', args: { i, rare: i === 1 || i === 5 } }) as Seed));
    const filter = { queues: ['dash_page'] };
    const p1 = await search({ filter, limit: 3 });
    expect(p1.jobs.map((j) => j.id)).toEqual(newestFirst(first).slice(0, 3));
    expect(p1.next).toBe(p1.jobs[2]!.id);
    // Jobs inserted between pages are newer: they never shift the pages already being read.
    const added = await seed('dash_page', [{ state: 'available' }, { state: 'completed' }]);
    const p2 = await search({ filter, limit: 3, cursor: p1.next });
    const p3 = await search({ filter, limit: 3, cursor: p2.next, scanLimit: 100_000 });
    expect([...p1.jobs, ...p2.jobs, ...p3.jobs].map((j) => j.id)).toEqual(newestFirst(first));
    expect(p3.next).toBeNull();
    // A fresh first page shows them.
    expect((await search({ filter, limit: 2 })).jobs.map((j) => j.id)).toEqual(newestFirst(added));
    // Several states are scanned state by state and merged: still one newest-first order.
    const mixed = await walk({ ...filter, states: ['available', 'completed'] }, 2);
    expect(mixed.ids).toEqual(newestFirst([...first, ...added]));
    // A JSON filter with a scan budget of 2 rows: short pages (some empty) that go on from where
    // the scan stopped, and together find every match exactly once.
    const rare = await walk({ ...filter, args: [{ path: ['rare'], value: true }] }, 10, 2, first[0]);
    expect(rare.ids).toEqual(newestFirst([first[1]!, first[5]!]));
    expect(rare.pages.length).toBeGreaterThan(2);
    expect(rare.pages.some((p) => p.jobs.length === 0 && p.next !== null)).toBe(true);
    // Past the oldest job of the queue, a budget that covers the table ends the walk.
    expect(await search({ filter: { ...filter, args: [{ path: ['rare'], value: true }] }, cursor: rare.pages.at(-1)!.next ?? first[0]!, scanLimit: 100_000 })).toEqual({ jobs: [], next: null });
    // A page whose limit is reached says so with the last id, budget or not.
    const full = await search({ filter: { ...filter, args: [{ path: ['rare'], value: true }] }, limit: 1, scanLimit: 100 });
    expect(full.jobs.map((j) => j.id)).toEqual([first[5]]);
    expect(full.next).toBe(first[5]);
    expect(await search({ filter: { queues: ['dash_page_none'] }, scanLimit: 100_000 })).toEqual({ jobs: [], next: null });
  });

  test('dashboard store: kind and queue count toward the scan budget, so a rare kind costs short pages, not a long scan', async () => {
    const { seed, search } = setup();
    // The newest rows of the table: this test's, seeded last (oldest first).
    const ids = await seed('dash_budget', (['dash_a', 'dash_b', 'dash_a', 'dash_a', 'dash_b', 'dash_a'] as const).map((kind, i) => ({ kind, state: i % 2 ? 'completed' : 'available' }) as Seed));
    const newest = newestFirst(ids); // kinds, newest first: a, b, a, a, b, a
    const kindB = { queues: ['dash_budget'], kinds: ['dash_b'] };
    // A budget of 3 rows: the page looks at the 3 newest jobs of any kind and queue, finds one
    // match and stops there, with a `next` to go on from although it is short of its limit.
    const p1 = await search({ filter: kindB, limit: 10, scanLimit: 3 });
    expect(p1).toMatchObject({ jobs: [{ id: ids[4], kind: 'dash_b' }], next: newest[2] });
    const p2 = await search({ filter: kindB, limit: 10, scanLimit: 3, cursor: p1.next });
    expect(p2).toMatchObject({ jobs: [{ id: ids[1], kind: 'dash_b' }], next: newest[5] });
    // With a state, only that state's rows count: its 2 newest (both dash_a) give an empty page that goes on.
    expect(await search({ filter: { ...kindB, states: ['completed'] }, limit: 10, scanLimit: 2 })).toEqual({ jobs: [], next: ids[3] });
    // A queue filter alone is budgeted too: 3 of the queue's 6 jobs, and where to go on.
    const q = await search({ filter: { queues: ['dash_budget'] }, limit: 10, scanLimit: 3 });
    expect(q.jobs.map((j) => j.id)).toEqual(newest.slice(0, 3));
    expect(q.next).toBe(newest[2]);
    // A page that fills its limit first ends there, budget or not.
    expect(await search({ filter: { queues: ['dash_budget'], kinds: ['dash_a'] }, limit: 2, scanLimit: 3 })).toMatchObject({ jobs: [{ id: newest[0] }, { id: newest[2] }], next: newest[2] });
  });

  test('dashboard store: countMatching is exact up to max and says when more match', async () => {
    const { seed, d, ex } = setup();
    await seed('dash_count', [
      { state: 'discarded', args: { t: 'x' } },
      { state: 'discarded', args: { t: 'y' } },
      { state: 'discarded', args: { t: 'x' } },
      { state: 'completed', args: { t: 'x' } },
    ]);
    const count = (filter: JobFilter, max: number) => d.countMatching(ex, { queues: ['dash_count'], ...filter }, { max });
    expect(await count({}, 100)).toEqual({ count: 4, capped: false });
    expect(await count({ states: ['discarded'] }, 3)).toEqual({ count: 3, capped: false });
    expect(await count({ states: ['discarded'] }, 2)).toEqual({ count: 2, capped: true });
    expect(await count({ args: [{ path: ['t'], value: 'x' }] }, 100)).toEqual({ count: 3, capped: false });
    expect(await count({ states: ['discarded'], args: [{ path: ['t'], value: 'x' }] }, 1)).toEqual({ count: 1, capped: true });
    expect(await count({ states: ['running'] }, 1)).toEqual({ count: 0, capped: false });
    await expect(count({}, 0)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.countMatching(ex, {}, {} as { max: number })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  test('dashboard store: jobDetail returns the whole row; unknown ids give null and bad ids a typed error', async () => {
    const { seed, d, ex, db, clock } = setup();
    const [id] = await seed('dash_detail', [{ state: 'available', args: { order: { id: 7, lines: [1, 2] }, note: 'ü' }, metadata: { tenant: 'acme' } }]);
    // Two failed attempts, then discarded: both errors are kept, oldest first.
    for (const [attempt, message] of [[1, 'first failure'], [2, 'second failure']] as const) {
      const [c] = await d.claim(db, { queues: ['dash_detail'], limit: 1, workerId: 'dash-detail-worker', leaseMs: 60_000, now: clock.now() });
      expect(c?.id).toBe(id);
      const errorJson = JSON.stringify({ at: clock.now().toISOString(), message, attempt, name: 'Error', stack: `Error: ${message}\n    at x` });
      expect(await d.fail(db, { id: c!.id, token: c!.leaseToken, to: attempt === 1 ? 'available' : 'discarded', delayMs: 0, errorJson, now: clock.now() })).toBe(true);
    }
    const detail = await d.jobDetail(ex, id!);
    expect(detail).not.toBeNull();
    const { args, metadata, errors, ...rest } = detail!;
    expect(JSON.parse(args)).toEqual({ order: { id: 7, lines: [1, 2] }, note: 'ü' });
    expect(JSON.parse(metadata!)).toEqual({ tenant: 'acme' });
    expect(errors).toEqual([
      { at: new Date(T0).toISOString(), message: 'first failure', attempt: 1, name: 'Error', stack: 'Error: first failure\n    at x' },
      { at: new Date(T0).toISOString(), message: 'second failure', attempt: 2, name: 'Error', stack: 'Error: second failure\n    at x' },
    ]);
    expect(rest).toEqual({
      id,
      queue: 'dash_detail',
      kind: 'dash_a',
      state: 'discarded',
      priority: 0,
      attempt: 2,
      maxAttempts: 20,
      runAt: new Date(T0),
      createdAt: new Date(T0),
      attemptedAt: new Date(T0),
      finalizedAt: new Date(T0),
      lockedBy: 'dash-detail-worker',
      lastError: 'second failure',
      leaseExpiresAt: null,
      uniqueKey: null,
    });
    expect(await d.jobDetail(ex, missingId(s))).toBeNull();
    for (const bad of ['abc', '', '1 OR 1=1', '-1', '99999999999999999999', 12 as unknown as string]) {
      await expect(d.jobDetail(ex, bad)).rejects.toBeInstanceOf(InvalidOptionError);
    }
  });

  test('dashboard store: overviewCounts by queue and state, paused queues, estimates past exactUpTo', async () => {
    const { seed, d, ex, jobs } = setup();
    await seed('dash_over', [{ state: 'available' }, { state: 'available' }, { state: 'running' }, { state: 'completed' }, { state: 'completed' }, { state: 'completed' }, { state: 'completed' }, { state: 'discarded' }]);
    await jobs.pauseQueue('dash_over_paused');
    try {
      const mine = (rows: Awaited<ReturnType<typeof d.overviewCounts>>) => rows.filter((r) => r.queue.startsWith('dash_over'));
      expect(mine(await d.overviewCounts(ex))).toEqual([
        { queue: 'dash_over', state: 'available', count: 2, estimated: false },
        { queue: 'dash_over', state: 'completed', count: 4, estimated: false },
        { queue: 'dash_over', state: 'discarded', count: 1, estimated: false },
        { queue: 'dash_over', state: 'running', count: 1, estimated: false },
        { queue: 'dash_over_paused', state: 'paused', count: 1, estimated: false },
      ]);
      // Past exactUpTo, a finished group is estimated where the database keeps statistics (never
      // below exactUpTo + 1); live states stay exact. SQLite and memory count exactly.
      const small = mine(await d.overviewCounts(ex, { exactUpTo: 2 }));
      const completed = small.find((r) => r.state === 'completed')!;
      if (s.db === 'postgres' || s.db === 'mysql') {
        expect(completed.estimated).toBe(true);
        expect(completed.count).toBeGreaterThanOrEqual(3);
        expect(Number.isInteger(completed.count)).toBe(true);
      } else {
        expect(completed).toEqual({ queue: 'dash_over', state: 'completed', count: 4, estimated: false });
      }
      expect(small.filter((r) => r.state !== 'completed')).toEqual([
        { queue: 'dash_over', state: 'available', count: 2, estimated: false },
        { queue: 'dash_over', state: 'discarded', count: 1, estimated: false },
        { queue: 'dash_over', state: 'running', count: 1, estimated: false },
        { queue: 'dash_over_paused', state: 'paused', count: 1, estimated: false },
      ]);
      await expect(d.overviewCounts(ex, { exactUpTo: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    } finally {
      await jobs.resumeQueue('dash_over_paused');
    }
  });

  test('dashboard store: throughput counts finished jobs per bucket from finalized_at, with empty buckets', async () => {
    const clock = new FakeClock(T0);
    const { seed, d, ex } = setup(clock);
    // A window no other test finishes jobs in.
    const W = Date.UTC(2041, 5, 1, 12, 0, 0);
    const at = (ms: number) => new Date(W + ms);
    await seed('dash_tp', [
      { state: 'completed', finishAt: at(0) },
      { state: 'completed', finishAt: at(59_999) },
      { state: 'discarded', finishAt: at(60_000) },
      { state: 'completed', finishAt: at(150_000) },
      { state: 'cancelled', finishAt: at(179_999) },
      { state: 'completed', finishAt: at(-1) },
      { state: 'completed', finishAt: at(240_000) },
      { state: 'available' },
      { state: 'running' },
    ]);
    const buckets = await d.throughput(ex, { sinceMs: W, untilMs: W + 240_000, bucketMs: 60_000 });
    expect(buckets).toEqual([
      { at: at(0), completed: 2, discarded: 0, cancelled: 0 },
      { at: at(60_000), completed: 0, discarded: 1, cancelled: 0 },
      { at: at(120_000), completed: 1, discarded: 0, cancelled: 1 },
      { at: at(180_000), completed: 0, discarded: 0, cancelled: 0 },
    ]);
    // Buckets start at multiples of bucketMs; rows before sinceMs are left out of the first one.
    expect(await d.throughput(ex, { sinceMs: W + 30_000, untilMs: W + 90_000, bucketMs: 60_000 })).toEqual([
      { at: at(0), completed: 1, discarded: 0, cancelled: 0 },
      { at: at(60_000), completed: 0, discarded: 1, cancelled: 0 },
    ]);
    expect(await d.throughput(ex, { sinceMs: W, untilMs: W, bucketMs: 60_000 })).toEqual([]);
    await expect(d.throughput(ex, { sinceMs: W, untilMs: W + 1_001 * 60_000, bucketMs: 60_000 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.throughput(ex, { sinceMs: W, untilMs: W + 60_000, bucketMs: 10 })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  test('dashboard store: runningJobs lists running jobs newest first with their lease holders', async () => {
    const { seed, d, ex } = setup();
    const [, r1, , r2] = await seed('dash_run', [{ state: 'available' }, { state: 'running' }, { state: 'completed' }, { state: 'running' }]);
    const running = (await d.runningJobs(ex, 100)).filter((j) => j.queue === 'dash_run');
    expect(running).toEqual(
      newestFirst([r1!, r2!]).map((id) => ({
        id,
        queue: 'dash_run',
        kind: 'dash_a',
        attempt: 1,
        maxAttempts: 20,
        runAt: new Date(T0),
        lockedBy: 'dash-worker',
        attemptedAt: new Date(T0),
        leaseExpiresAt: new Date(T0 + 600_000),
      })),
    );
    expect(await d.runningJobs(ex, 1)).toHaveLength(1);
    await expect(d.runningJobs(ex, 101)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  test('dashboard store: actions on listed ids change only jobs in a state they apply to', async () => {
    const clock = new FakeClock(T0);
    const { seed, d, db, ex, h } = setup(clock);
    const [avail, run, done, dead, gone, later] = await seed('dash_act', [
      { state: 'available' },
      { state: 'running' },
      { state: 'completed' },
      { state: 'discarded' },
      { state: 'cancelled' },
      { state: 'scheduled' },
    ]);
    const all = [avail!, run!, done!, dead!, gone!, later!];
    const state = async () => Object.fromEntries((await h.rows()).filter((r) => all.includes(r.id)).map((r) => [r.id, r.state]));
    clock.set(T0 + 5_000);
    const now = clock.now();

    // run now: only an available job due in the future.
    expect(await d.applyAction(db, 'runNow', { ids: all }, now)).toEqual([later]);
    expect((await h.rows()).find((r) => r.id === later)!.runAtMs).toBe(T0 + 5_000);
    expect(await d.applyAction(db, 'runNow', { ids: all }, now)).toEqual([]);
    // retry: completed, cancelled and discarded → available, due now, attempt reset, errors kept.
    expect(await d.applyAction(db, 'retry', { ids: all }, now)).toEqual(newestFirst([done!, dead!, gone!]));
    const retried = (await h.rows()).find((r) => r.id === dead)!;
    expect(retried).toMatchObject({ state: 'available', attempt: 0, runAtMs: T0 + 5_000, finalizedAtMs: null });
    expect(retried.errors?.map((e) => e.message)).toEqual(['boom']);
    // discard: available only (the running one stays running).
    expect(await d.applyAction(db, 'discard', { ids: [done!, run!] }, now)).toEqual([done]);
    // cancel: available and running; the running job's worker loses its fence.
    expect(await d.applyAction(db, 'cancel', { ids: [run!, avail!, done!] }, now)).toEqual(newestFirst([run!, avail!]));
    expect(await state()).toMatchObject({ [run!]: 'cancelled', [avail!]: 'cancelled', [done!]: 'discarded' });
    const detail = await d.jobDetail(ex, run!);
    expect(detail).toMatchObject({ state: 'cancelled', finalizedAt: new Date(T0 + 5_000), leaseExpiresAt: null });
    // delete: refuses running jobs; unknown ids and repeats are ignored.
    const [running] = await seed('dash_act', [{ state: 'running' }]);
    expect(await d.applyAction(db, 'delete', { ids: [running!, avail!, avail!, missingId(s)] }, now)).toEqual([avail]);
    expect(await state()).not.toHaveProperty(avail!);
    expect((await h.rows()).find((r) => r.id === running)!.state).toBe('running');
    expect(await d.applyAction(db, 'cancel', { ids: [] }, now)).toEqual([]);
  });

  test('dashboard store: actions drop a unique key when the job leaves the states the key covers, and keep it otherwise', async () => {
    const { d, db, jobs, make, h, clock } = setup();
    const key = `dash:${h.table}`;
    const unique = (k: string, states?: JobState[]) => jobs.enqueueUniqueAutocommit(make({ k }, 'dash_unique') as never, { unique: { key: k, ...(states && { states }) } });
    // Default states (available, running, completed): cancel and discard free the key.
    const first = await unique(`${key}:a`);
    expect(first.inserted).toBe(true);
    expect(await unique(`${key}:a`)).toEqual({ inserted: false, id: first.id });
    expect(await d.applyAction(db, 'cancel', { ids: [first.id!] }, clock.now())).toEqual([first.id]);
    const second = await unique(`${key}:a`);
    expect(second.inserted).toBe(true);
    expect(await d.applyAction(db, 'discard', { filter: { queues: ['dash_unique'], states: ['available'] }, max: 10 }, clock.now())).toEqual([second.id]);
    const third = await unique(`${key}:a`);
    expect(third.inserted).toBe(true);
    // A key that covers discarded and available stays through discard and retry.
    const held = await unique(`${key}:b`, ['available', 'discarded']);
    expect(await d.applyAction(db, 'discard', { ids: [held.id!] }, clock.now())).toEqual([held.id]);
    expect(await unique(`${key}:b`, ['available', 'discarded'])).toEqual({ inserted: false, id: held.id });
    expect(await d.applyAction(db, 'retry', { ids: [held.id!] }, clock.now())).toEqual([held.id]);
    expect(await unique(`${key}:b`, ['available', 'discarded'])).toEqual({ inserted: false, id: held.id });
  });

  test('dashboard store: a cancelled running job is dropped by its worker at the next heartbeat', async () => {
    const { seed, d, db, clock } = setup();
    const [id] = await seed('dash_cancel_run', [{ state: 'running' }]);
    const [c] = (await s.harness().rows()).filter((r) => r.id === id);
    const fence = { id: id!, token: c!.leaseToken! };
    expect(await d.applyAction(db, 'cancel', { ids: [id!] }, clock.now())).toEqual([id]);
    // The heartbeat (extendLeases) and the completion both find the fence gone.
    expect(await d.extendLeases(db, [fence], 60_000, clock.now())).toEqual(new Set());
    expect(await d.complete(db, [fence], clock.now())).toEqual(new Set());
    expect((await s.harness().rows()).find((r) => r.id === id)!.state).toBe('cancelled');
  });

  test('dashboard store: actions by filter act on matching jobs newest first, in batches, up to max', async () => {
    const clock = new FakeClock(T0);
    const { seed, d, db, h, jobs, make } = setup(clock);
    // In as few transactions as the store takes (DynamoDB: 100 writes each), oldest first.
    const requests = Array.from({ length: 620 }, (_, i) => make({ i, even: i % 2 === 0 }, 'dash_bulk'));
    const size = h.adapter.backend({ table: h.table }).capabilities.maxTransactionWrites ?? requests.length;
    const many: string[] = [];
    for (let i = 0; i < requests.length; i += size) many.push(...(await h.inTransaction((tx) => jobs.enqueueMany(tx, requests.slice(i, i + size) as never))));
    const now = clock.now();
    // 620 available jobs: discard the 300 newest even ones (a JSON filter), then the rest.
    const evens = newestFirst(many.filter((_, i) => i % 2 === 0));
    const discarded = await d.applyAction(db, 'discard', { filter: { queues: ['dash_bulk'], args: [{ path: ['even'], value: true }] }, max: 300 }, now);
    expect(discarded).toEqual(evens.slice(0, 300));
    const rest = await d.applyAction(db, 'discard', { filter: { queues: ['dash_bulk'] }, max: 100_000 }, now);
    expect(rest).toEqual(newestFirst(many.filter((id) => !discarded.includes(id))));
    // Retry by filter: the filter's states meet the action's (a state it cannot act on matches nothing).
    expect(await d.applyAction(db, 'retry', { filter: { queues: ['dash_bulk'], states: ['running'] }, max: 10 }, now)).toEqual([]);
    // 550 is more than one batch: the second batch goes on below the first.
    const retried = await d.applyAction(db, 'retry', { filter: { queues: ['dash_bulk'], states: ['discarded'] }, max: 550 }, now);
    expect(retried).toEqual(newestFirst(many).slice(0, 550));
    // Cancel by filter takes running and available jobs; delete by filter never touches running ones.
    const [r1, a1, f1] = await seed('dash_bulk2', [{ state: 'running' }, { state: 'available' }, { state: 'scheduled' }]);
    expect(await d.applyAction(db, 'runNow', { filter: { queues: ['dash_bulk2'] }, max: 10 }, now)).toEqual([f1]);
    expect(await d.applyAction(db, 'cancel', { filter: { queues: ['dash_bulk2'], states: ['running'] }, max: 10 }, now)).toEqual([r1]);
    const [r2] = await seed('dash_bulk2', [{ state: 'running' }]);
    expect(await d.applyAction(db, 'delete', { filter: { queues: ['dash_bulk2'] }, max: 10 }, now)).toEqual(newestFirst([r1!, a1!, f1!]));
    expect((await h.rows()).filter((r) => r.queue === 'dash_bulk2').map((r) => [r.id, r.state])).toEqual([[r2, 'running']]);
    // Bad targets are refused before anything runs.
    await expect(d.applyAction(db, 'retry', { filter: { queues: ['dash_bulk'] } } as never, now)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.applyAction(db, 'retry', { filter: { queues: ['dash_bulk'] }, max: 0 }, now)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.applyAction(db, 'explode' as never, { ids: [r2!] }, now)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.applyAction(db, 'delete', { ids: ['1; DELETE FROM x'] }, now)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(d.applyAction(db, 'delete', { filter: { queues: [] }, max: 10 }, now)).rejects.toBeInstanceOf(InvalidFilterError);
    expect((await h.rows()).filter((r) => r.queue === 'dash_bulk').map((r) => r.state).sort()).toEqual([...Array(550).fill('available'), ...Array(70).fill('discarded')]);
  });

  test('dashboard store: hostile paths and values are refused with a typed error or match only what they say', async () => {
    const { seed, d, ex, db, h, walk, clock } = setup();
    const hostile = `x'); DELETE FROM jobs; -- " \\ $.a[0] %_`;
    const [target, other] = await seed('dash_hostile', [{ state: 'available', args: { note: hostile, k: 'v' } }, { state: 'available', args: { note: 'x', k: 'v' } }]);
    const before = (await h.rows()).length;
    // A hostile value is bound, never spliced: it matches the one job that holds exactly it.
    expect((await walk({ queues: ['dash_hostile'], args: [{ path: ['note'], value: hostile }] }, 10)).ids).toEqual([target]);
    expect((await walk({ queues: ['dash_hostile'], metadata: [{ path: ['note'], value: hostile }] }, 10)).ids).toEqual([]);
    expect((await walk({ queues: ['dash_hostile'], args: [{ path: ['note'], value: `' OR '1'='1` }] }, 10)).ids).toEqual([]);
    expect((await walk({ queues: ['dash_hostile'], args: [{ path: ['k'], value: 'v' }] }, 10)).ids).toEqual(newestFirst([target!, other!]));
    // Paths may only hold plain keys and array indexes.
    const badPaths: unknown[] = [
      ['note"'],
      ["note'"],
      ['a.b'],
      ['$'],
      ['a[0]'],
      ['*'],
      ['**'],
      [''],
      [' note'],
      ['note', ') OR 1=1 --'],
      ['-1'],
      ['01'],
      ['1e3'],
      [0],
      [null],
      [],
      Array(17).fill('a'),
      'note',
      ['\u0000'],
    ];
    for (const path of badPaths) {
      const err = await d.searchJobs(ex, { filter: { args: [{ path, value: 'x' } as never] } }).then(() => null, (e: unknown) => e);
      expect(err, JSON.stringify(path)).toBeInstanceOf(InvalidFilterError);
      expect((err as InvalidFilterError).code).toBe('INVALID_FILTER');
    }
    const badFilters: unknown[] = [
      { states: ['paused'] },
      { states: ["available' OR 1=1"] },
      { states: [] },
      { states: 'available' },
      { kinds: ['bad kind'] },
      { kinds: ["k'"] },
      { queues: ['__proto__'] },
      { queues: [7] },
      { createdFrom: -1 },
      { createdTo: Number.NaN },
      { createdFrom: '2020-01-01' },
      { args: [{ path: ['a'] }] },
      { args: [{ path: ['a'], value: { $gt: 1 } }] },
      { args: [{ path: ['a'], value: [1] }] },
      { args: [{ path: ['a'], value: Number.POSITIVE_INFINITY }] },
      { args: [{ path: ['a'], value: 'x'.repeat(1025) }] },
      { args: [{ path: ['a'], value: 'nul\u0000' }] },
      { args: {} },
      { metadata: [] },
      { sql: '1=1' },
      'states=available',
    ];
    for (const filter of badFilters) {
      await expect(d.searchJobs(ex, { filter: filter as JobFilter }), JSON.stringify(filter)).rejects.toBeInstanceOf(InvalidFilterError);
      await expect(d.countMatching(ex, filter as JobFilter, { max: 10 }), JSON.stringify(filter)).rejects.toBeInstanceOf(InvalidFilterError);
      await expect(d.applyAction(db, 'delete', { filter: filter as JobFilter, max: 10 }, clock.now()), JSON.stringify(filter)).rejects.toBeInstanceOf(InvalidFilterError);
    }
    for (const params of [{ cursor: '1 OR 1=1' }, { cursor: '-5' }, { limit: 0 }, { limit: 101 }, { limit: 2.5 }, { scanLimit: 0 }, { scanLimit: 100_001 }]) {
      await expect(d.searchJobs(ex, { filter: {}, ...params } as SearchJobsParams), JSON.stringify(params)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    // Nothing was deleted or changed by any of it.
    expect((await h.rows()).length).toBe(before);
    // A refused filter inside the caller's transaction leaves it usable (nothing reached the database).
    // (The business write comes first: on SQLite a deferred transaction that reads before its
    // first write can be refused the write lock while a worker of another test is claiming.)
    const committed = await h.inTransaction(async (tx) => {
      await h.insertOrder(tx, 90_141);
      const inTx = h.adapter.bind(tx);
      await expect(d.searchJobs(inTx, { filter: { args: [{ path: ["x'"], value: 1 }] } })).rejects.toBeInstanceOf(InvalidFilterError);
      const page = await d.searchJobs(inTx, { filter: { queues: ['dash_hostile'] } });
      await h.insertOrder(tx, 90_142);
      return page.jobs.length;
    });
    expect(committed).toBe(2);
    expect(await h.orderIds()).toEqual(expect.arrayContaining([90_141, 90_142]));
  });

  sqlTest('dashboard store: a row whose JSON columns hold text that is not JSON is listed, not a failed page (SQLite)', async () => {
    // Only SQLite stores such text (its JSON columns are TEXT); the others refuse it on insert.
    if (s.db !== 'sqlite') return;
    const { d, ex, h, seed } = setup();
    const [good] = await seed('dash_corrupt', [{ state: 'available', args: { k: 1 } }]);
    // Written behind Concordia's back, straight into a queue no worker serves.
    const [row] = await h.raw!.query(
      `INSERT INTO "${h.table}" (queue, kind, args, metadata, errors, run_at, created_at) VALUES ('dash_corrupt', 'dash_a', 'not json {', 'nor this', 'garbage', ?, ?) RETURNING CAST(id AS TEXT) AS id`,
      [T0, T0],
    );
    const bad = String(row!['id']);
    const page = await d.searchJobs(ex, { filter: { queues: ['dash_corrupt'], args: [{ path: ['k'], value: 1 }], metadata: [{ path: ['x'], value: null }] } });
    expect(page.jobs).toEqual([]);
    const matched = await d.searchJobs(ex, { filter: { queues: ['dash_corrupt'], args: [{ path: ['k'], value: 1 }] } });
    expect(matched.jobs.map((j) => j.id)).toEqual([good]);
    const listed = await d.searchJobs(ex, { filter: { queues: ['dash_corrupt'] } });
    expect(listed.jobs.find((j) => j.id === bad)).toMatchObject({ lastError: null });
    expect(await d.jobDetail(ex, bad)).toMatchObject({ args: 'not json {', metadata: 'nor this', errors: [{ at: '', message: 'garbage' }] });
  });

  sqlTest('dashboard store: pause markers are never listed, counted, shown or acted on as jobs', async () => {
    const { d, ex, db, jobs, h, clock } = setup();
    await jobs.pauseQueue('dash_marker');
    try {
      const marker = (await h.rows()).find((r) => r.queue === 'dash_marker' && r.state === 'paused');
      expect(marker).toBeDefined();
      expect((await d.searchJobs(ex, { filter: { queues: ['dash_marker'] } })).jobs).toEqual([]);
      expect(await d.countMatching(ex, { queues: ['dash_marker'] }, { max: 10 })).toEqual({ count: 0, capped: false });
      expect(await d.jobDetail(ex, marker!.id)).toBeNull();
      for (const action of ['retry', 'cancel', 'discard', 'delete', 'runNow'] as const) {
        expect(await d.applyAction(db, action, { ids: [marker!.id] }, clock.now())).toEqual([]);
        expect(await d.applyAction(db, action, { filter: { queues: ['dash_marker'] }, max: 10 }, clock.now())).toEqual([]);
      }
      expect(await jobs.pausedQueues()).toContain('dash_marker');
    } finally {
      await jobs.resumeQueue('dash_marker');
    }
  });
}
