/**
 * The conformance suite: every behaviour of the engine, run against one adapter × database
 * pair on the real database. Each `<adapter>.<db>.spec.ts` calls {@link exerciseAdapter} once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, FakeClock, silentLogger, type Jobs, type JobContext, type JobDefinition, type Worker, type WorkOptions } from '../../lib/index.ts';
import { CancelJob, DiscardJob, InvalidArgsError, InvalidIdentifierError, NotInTransactionError, SchemaMismatchError, SnoozeJob, StateError, UnknownJobKindError } from '../../lib/errors.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import { isReachable, quoteTable, tableParts, type Db } from '../support/databases.ts';
import { redisReachable } from '../support/redis-harness.ts';
import { dynamodbReachable } from '../support/dynamodb-harness.ts';
import { firestoreReachable } from '../support/firestore-harness.ts';
import type { Harness } from '../support/harness.ts';
import type { BackendCapabilities } from '../../lib/backend/capabilities.ts';
import { claimAheadTests } from './claim-ahead.ts';
import { dashboardStoreTests } from './dashboard-store.ts';
import { periodicJobTests } from './periodic-jobs.ts';
import { uniqueJobTests } from './unique-jobs.ts';

type Factory = () => Promise<Harness>;

/** Resolves after `n` events of `name` on any of `workers`. */
function count(workers: Worker[], name: 'job:completed' | 'job:retried' | 'job:discarded', n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const offs = workers.map((w) =>
      w.on(name, () => {
        if (++seen === n) {
          offs.forEach((off) => off());
          resolve();
        }
      }),
    );
  });
}

/** A latch a test opens to let a waiting handler go on. */
function latch(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const fast: WorkOptions = { pollIntervalMs: 20, logger: silentLogger };

export function exerciseAdapter(label: string, db: 'postgres' | 'mysql' | 'sqlite' | 'memory' | 'redis' | 'dynamodb' | 'firestore', factory: Factory): void {
  const skip = db !== 'memory' && !(process.env['CI'] || true) ? true : false;
  describe.skipIf(skip)(`conformance: ${label}`, () => {
    let h: Harness;
    let available = true;
    const started: Worker[] = [];

    beforeAll(async () => {
      if (db === 'redis') available = await redisReachable();
      else if (db === 'dynamodb') available = await dynamodbReachable();
      else if (db === 'firestore') available = await firestoreReachable();
      else if (db !== 'memory') available = await isReachable(db);
      if (available) h = await factory();
    }, 30_000);

    afterAll(async () => {
      await Promise.all(started.map((w) => w.stop()));
      await h?.close();
    });

    // Where the harness asks (a store too slow to serve every idle worker of the file polling
    // every 20 ms), each test's workers stop when it ends.
    afterEach(async () => {
      if (h?.stopWorkersAfterEach) await Promise.all(started.splice(0).map((w) => w.stop()));
    });

    /** What the backend says it can do: tests depending on a capability read it here, never the database's name. */
    const caps = (): BackendCapabilities => h.adapter.backend({ table: h.table }).capabilities;
    /** A test that runs where `needs` holds for this pair (a capability of its backend, a feature of its harness). */
    const testWhere =
      (needs: () => boolean) =>
      (name: string, fn: () => Promise<void>, timeout = 30_000) =>
        it(name, async (ctx) => {
          if (!available || !needs()) return ctx.skip();
          await fn();
        }, timeout);
    const test = testWhere(() => true);
    /** Tests that reach the table behind Concordia's back with raw SQL (DDL, id sequences, schema checks). */
    const sqlTest = testWhere(() => h.raw !== undefined);

    async function start(jobs: Jobs<unknown>, options: WorkOptions = {}): Promise<Worker> {
      const worker = jobs.createWorker({ ...fast, ...options });
      started.push(worker);
      await worker.start();
      return worker;
    }

    function client(defs: Parameters<typeof createJobs>[0]['jobs'], extra: { clock?: FakeClock; maxAttempts?: number; maxArgsBytes?: number } = {}) {
      return createJobs({ adapter: h.adapter, table: h.table, jobs: defs ?? [], ...extra }) as Jobs<unknown>;
    }

    /** enqueueMany in one transaction, or in as few as the store's limit per transaction allows. */
    async function enqueueInTransactions(jobs: Jobs<unknown>, requests: Parameters<Jobs<unknown>['enqueueMany']>[1], options: Parameters<Jobs<unknown>['enqueueMany']>[2]): Promise<string[]> {
      const size = caps().maxTransactionWrites ?? requests.length;
      const ids: string[] = [];
      for (let i = 0; i < requests.length; i += size) ids.push(...(await h.inTransaction((tx) => jobs.enqueueMany(tx, requests.slice(i, i + size), options))));
      return ids;
    }

    async function rowsOf(ids: string[]) {
      const set = new Set(ids);
      return (await h.rows()).filter((r) => set.has(r.id));
    }

    test('commit makes the job visible; rollback leaves neither job nor business row', async () => {
      const noop = defineJob('tx_visibility', { handler: async () => {} });
      const jobs = client([noop]);
      const kept = await h.inTransaction(async (tx) => {
        await h.insertOrder(tx, 101);
        const id = await jobs.enqueue(tx, noop({ n: 1 }), { queue: 'visibility' });
        if (caps().transactionalEnqueue) expect(await rowsOf([id])).toHaveLength(0); // invisible to others before commit
        return id;
      });
      let lost = '';
      await expect(
        h.inTransaction(async (tx) => {
          await h.insertOrder(tx, 102);
          lost = await jobs.enqueue(tx, noop({ n: 2 }), { queue: 'visibility' });
          throw new Error('roll back on purpose');
        }),
      ).rejects.toThrow('roll back on purpose');
      expect(lost).not.toBe('');
      expect((await rowsOf([kept])).map((r) => r.state)).toEqual(['available']);
      expect(await rowsOf([lost])).toHaveLength(0);
      const orders = await h.orderIds();
      expect(orders).toContain(101);
      expect(orders).not.toContain(102);
    });

    test('a handle outside a transaction is refused, never autocommitted', async () => {
      const noop = defineJob('not_in_tx', { handler: async () => {} });
      const jobs = client([noop]);
      const before = (await h.rows()).length;
      await expect(jobs.enqueue(h.notInTransaction(), noop({}), { queue: 'misuse' })).rejects.toBeInstanceOf(NotInTransactionError);
      expect((await h.rows()).length).toBe(before);
    });

    test('enqueueMany inserts a batch in one go and returns ids in order', async () => {
      const item = defineJob('batch_item', { handler: async () => {} });
      const jobs = client([item]);
      // As many as one transaction of the store takes (DynamoDB: 100 writes; the refusal past it is spec/dynamodb's).
      const n = Math.min(1203, caps().maxTransactionWrites ?? 1203);
      const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, Array.from({ length: n }, (_, i) => item({ i })), { queue: 'batch' }));
      expect(ids).toHaveLength(n);
      const sorted = [...ids].sort((a, b) => Number(a) - Number(b));
      expect(ids).toEqual(sorted);
      const rows = await rowsOf(ids);
      expect(rows).toHaveLength(n);
      expect(rows.map((r) => (r.args as { i: number }).i)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(new Set(rows.map((r) => r.queue))).toEqual(new Set(['batch']));
      expect(await jobs.enqueueMany(await Promise.resolve(undefined as never), [])).toEqual([]);
    });

    testWhere(() => caps().atomicBatches && h.raw !== undefined)('an enqueueMany whose later statement fails leaves none of its rows and the transaction usable', async () => {
      // A database-side refusal of the last job only (validation cannot see it): a CHECK, or a trigger on SQLite.
      const t = h.table;
      // A schema-qualified table is quoted part by part; the constraint takes its bare name.
      const ddl =
        db === 'sqlite'
          ? `CREATE TRIGGER ${t}_poison BEFORE INSERT ON ${t} WHEN NEW.queue = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`
          : `ALTER TABLE ${quoteTable(db as Db, t)} ADD CONSTRAINT ${tableParts(t).name}_poison CHECK (queue <> 'poison')`;
      await h.raw!.execute(ddl, []);
      const item = defineJob('atomic_item', { handler: async () => {} });
      const jobs = client([item]);
      const batch = [...Array.from({ length: 1500 }, (_, i) => item({ i }, { queue: 'atomic' })), item({ i: -1 }, { queue: 'poison' })];
      let caught: unknown;
      await h.inTransaction(async (tx) => {
        await h.insertOrder(tx, 7001);
        try {
          await jobs.enqueueMany(tx, batch);
        } catch (error) {
          caught = error;
        }
        // On PostgreSQL the failed statement would have aborted the whole transaction without the savepoint.
        await h.insertOrder(tx, 7002);
        await jobs.enqueue(tx, item({ i: -2 }, { queue: 'atomic_after' }));
      });
      expect(caught).toBeDefined();
      expect(await h.orderIds()).toEqual(expect.arrayContaining([7001, 7002]));
      const rows = await h.rows();
      expect(rows.filter((r) => r.queue === 'atomic' || r.queue === 'poison')).toEqual([]);
      expect(rows.filter((r) => r.queue === 'atomic_after')).toHaveLength(1);
    });

    test('enqueueMany keeps every column of every row: per-kind defaults, delay, runAt, metadata, clock', async () => {
      const clock = new FakeClock(Date.UTC(2031, 2, 3, 4, 5, 6, 789));
      const low = defineJob('batch_low', { queue: 'batch_cols', priority: 7, maxAttempts: 3, handler: async () => {} });
      const high = defineJob('batch_high', { queue: 'batch_cols', priority: -2, handler: async () => {} });
      const jobs = client([low, high], { clock });
      const odd = { text: 'quote " backslash \\ unicode é ✓', n: 1.5, nested: [null, true, { deep: 'x' }] };
      const delayed = await h.inTransaction((tx) => jobs.enqueueMany(tx, [low({ i: 0 }), high(odd), low({ i: 2 })], { delayMs: 1500, metadata: { tenant: 'acme' } }));
      const at = new Date(Date.UTC(2032, 0, 2, 3, 4, 5, 678));
      const timed = await h.inTransaction((tx) => jobs.enqueueMany(tx, [high({ i: 3 }), low({ i: 4 })], { runAt: at, priority: 5 }));
      const byId = new Map((await rowsOf([...delayed, ...timed])).map((r) => [r.id, r]));
      const view = (id: string) => {
        const r = byId.get(id)!;
        return { kind: r.kind, queue: r.queue, priority: r.priority, maxAttempts: r.maxAttempts, runAtMs: r.runAtMs, metadata: r.metadata, args: r.args, state: r.state };
      };
      const due = clock.now().getTime() + 1500;
      expect(delayed.map(view)).toEqual([
        { kind: 'batch_low', queue: 'batch_cols', priority: 7, maxAttempts: 3, runAtMs: due, metadata: { tenant: 'acme' }, args: { i: 0 }, state: 'available' },
        { kind: 'batch_high', queue: 'batch_cols', priority: -2, maxAttempts: 20, runAtMs: due, metadata: { tenant: 'acme' }, args: odd, state: 'available' },
        { kind: 'batch_low', queue: 'batch_cols', priority: 7, maxAttempts: 3, runAtMs: due, metadata: { tenant: 'acme' }, args: { i: 2 }, state: 'available' },
      ]);
      expect(timed.map(view)).toEqual([
        { kind: 'batch_high', queue: 'batch_cols', priority: 5, maxAttempts: 20, runAtMs: at.getTime(), metadata: null, args: { i: 3 }, state: 'available' },
        { kind: 'batch_low', queue: 'batch_cols', priority: 5, maxAttempts: 3, runAtMs: at.getTime(), metadata: null, args: { i: 4 }, state: 'available' },
      ]);
    });

    test('enqueueAutocommit commits on its own', async () => {
      const item = defineJob('autocommit_item', { handler: async () => {} });
      const jobs = client([item]);
      const id = await jobs.enqueueAutocommit(item({ x: 1 }), { queue: 'autocommit', metadata: { tenant: 'acme' } });
      const [row] = await rowsOf([id]);
      expect(row?.state).toBe('available');
      expect(row?.metadata).toEqual({ tenant: 'acme' });
    });

    test('args round-trip exactly: nesting, unicode, ISO dates, numbers, null', async () => {
      const payload = {
        orderId: 'ord_42',
        at: new Date(Date.UTC(2031, 1, 3, 4, 5, 6, 789)).toISOString(),
        text: 'naïve café — 東京 🚀 "quoted" \\ back\nslash',
        nested: { list: [1, 2.5, -3e-7, { deep: [true, false, null] }], empty: {}, none: [] },
        big: 2 ** 53 - 1,
      };
      const seen: unknown[] = [];
      const echo = defineJob('echo_args', {
        handler: async (args: typeof payload, ctx: JobContext) => {
          seen.push(args, new Date(args.at).getTime(), ctx.attempt, ctx.kind, ctx.queue);
        },
      });
      const jobs = client([echo]);
      await h.inTransaction((tx) => jobs.enqueue(tx, echo(payload), { queue: 'echo' }));
      const w = await start(jobs, { queues: ['echo'] });
      await w.next('job:completed');
      expect(seen).toEqual([payload, Date.UTC(2031, 1, 3, 4, 5, 6, 789), 1, 'echo_args', 'echo']);
    });

    test('claims by priority, then run_at, then id', async () => {
      const order: number[] = [];
      const ranked = defineJob('ranked', { handler: async (a: { n: number }) => void order.push(a.n) });
      const clock = new FakeClock(Date.UTC(2030, 0, 1));
      const jobs = client([ranked], { clock });
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, ranked({ n: 1 }), { queue: 'rank', priority: 5 });
        await jobs.enqueue(tx, ranked({ n: 2 }), { queue: 'rank', priority: 0, runAt: new Date(Date.UTC(2029, 0, 2)) });
        await jobs.enqueue(tx, ranked({ n: 3 }), { queue: 'rank', priority: 0, runAt: new Date(Date.UTC(2029, 0, 1)) });
        await jobs.enqueue(tx, ranked({ n: 4 }), { queue: 'rank', priority: -3 });
        await jobs.enqueue(tx, ranked({ n: 5 }), { queue: 'rank', priority: 0, runAt: new Date(Date.UTC(2029, 0, 1)) });
      });
      const w = jobs.createWorker({ ...fast, queues: ['rank'], concurrency: 1 });
      started.push(w);
      const done = count([w], 'job:completed', 5);
      await w.start();
      for (let i = 0; i < 5; i++) {
        await w.next('idle').then(() => undefined, () => undefined).catch(() => undefined);
        w.wake();
        if (order.length === 5) break;
      }
      await done;
      expect(order).toEqual([4, 3, 5, 2, 1]);
    });

    test('scheduled jobs wait until due (fake clock)', async () => {
      const ran: string[] = [];
      const later = defineJob('later', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
      const clock = new FakeClock(Date.UTC(2030, 5, 1));
      const jobs = client([later], { clock });
      const [soon, far] = await h.inTransaction(async (tx) => [
        await jobs.enqueue(tx, later({ tag: 'soon' }), { queue: 'sched', delayMs: 60_000 }),
        await jobs.enqueue(tx, later({ tag: 'far' }), { queue: 'sched', runAt: new Date(Date.UTC(2030, 5, 2)) }),
      ]);
      const w = jobs.createWorker({ ...fast, queues: ['sched'] });
      started.push(w);
      const firstIdle = w.next('idle');
      await w.start();
      await firstIdle;
      expect(ran).toEqual([]);
      const rows = await rowsOf([soon!, far!]);
      expect(rows.map((r) => r.runAtMs)).toEqual([Date.UTC(2030, 5, 1) + 60_000, Date.UTC(2030, 5, 2)]);
      const completed = w.next('job:completed');
      clock.set(Date.UTC(2030, 5, 1) + 60_000);
      w.wake();
      await completed;
      expect(ran).toEqual(['soon']);
      expect((await rowsOf([far!]))[0]?.state).toBe('available');
    });

    test('a failing job retries with backoff, records each error, then is discarded', async () => {
      const boom = defineJob('always_fails', {
        maxAttempts: 3,
        handler: async (_a: { x: number }, ctx: JobContext) => {
          throw new Error(`boom on attempt ${ctx.attempt}`);
        },
      });
      const t0 = Date.UTC(2030, 2, 1);
      const clock = new FakeClock(t0);
      const jobs = client([boom], { clock });
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, boom({ x: 1 }), { queue: 'retry' }));
      const w = jobs.createWorker({ ...fast, queues: ['retry'], retryPolicy: { delayMs: (attempt) => attempt * 1000 } });
      started.push(w);
      let retried = w.next('job:retried');
      await w.start();
      expect((await retried).delayMs).toBe(1000);
      let [row] = await rowsOf([id]);
      expect(row).toMatchObject({ state: 'available', attempt: 1, runAtMs: t0 + 1000 });

      retried = w.next('job:retried');
      clock.set(t0 + 1000);
      w.wake();
      expect((await retried).delayMs).toBe(2000);
      [row] = await rowsOf([id]);
      expect(row).toMatchObject({ state: 'available', attempt: 2, runAtMs: t0 + 3000 });

      const discarded = w.next('job:discarded');
      clock.set(t0 + 3000);
      w.wake();
      expect((await discarded).reason).toBe('max_attempts');
      [row] = await rowsOf([id]);
      expect(row).toMatchObject({ state: 'discarded', attempt: 3, finalizedAtMs: t0 + 3000 });
      expect(row?.errors?.map((e) => [e.attempt, e.message])).toEqual([
        [1, 'boom on attempt 1'],
        [2, 'boom on attempt 2'],
        [3, 'boom on attempt 3'],
      ]);
    });

    test('whatever a handler throws is recorded and retried', async () => {
      const circular: Record<string, unknown> = { name: 'loop' };
      circular['self'] = circular;
      const throwers: unknown[] = ['a plain string', undefined, circular, 42, new Error('x'.repeat(10_000))];
      const odd = defineJob('odd_throw', {
        maxAttempts: 1,
        handler: async (a: { i: number }) => {
          throw throwers[a.i];
        },
      });
      const jobs = client([odd]);
      const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, throwers.map((_, i) => odd({ i })), { queue: 'odd' }));
      const w = jobs.createWorker({ ...fast, queues: ['odd'] });
      started.push(w);
      const done = count([w], 'job:discarded', throwers.length);
      await w.start();
      await done;
      const rows = await rowsOf(ids);
      const messages = rows.map((r) => r.errors?.[0]?.message ?? '');
      expect(rows.every((r) => r.state === 'discarded')).toBe(true);
      expect(messages[0]).toBe('a plain string');
      expect(messages[1]).toBe('undefined was thrown');
      expect(messages[2]).toContain('[Circular]');
      expect(messages[3]).toBe('42');
      expect(messages[4]!.length).toBeLessThanOrEqual(4096);
    });

    test('cancel stops a job that has not started, and only such a job', async () => {
      const ran: number[] = [];
      const c = defineJob('cancellable', { handler: async (a: { n: number }) => void ran.push(a.n) });
      const jobs = client([c]);
      const [a, b] = await h.inTransaction((tx) => jobs.enqueueMany(tx, [c({ n: 1 }), c({ n: 2 })], { queue: 'cancel' }));
      expect(await jobs.cancel(a!)).toBe(true);
      expect(await jobs.cancel(a!)).toBe(false);
      expect(await jobs.cancel(caps().ids === 'store' ? '999999999' : '00000000-0000-7000-8000-000000000000')).toBe(false);
      const w = await start(jobs, { queues: ['cancel'] });
      await w.next('job:completed');
      expect(ran).toEqual([2]);
      expect(await jobs.cancel(b!)).toBe(false);
      expect((await rowsOf([a!, b!])).map((r) => r.state)).toEqual(['cancelled', 'completed']);
    });

    test('stop() waits for running handlers, then releases the ones past the timeout', async () => {
      const gate = latch();
      const slow = defineJob('slow', {
        handler: async (a: { hang: boolean }, ctx: JobContext) => {
          if (a.hang) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
          else await gate.wait;
        },
      });
      const clock = new FakeClock(Date.UTC(2030, 7, 1));
      const jobs = client([slow], { clock });
      const [finishing, hanging] = await h.inTransaction((tx) =>
        jobs.enqueueMany(tx, [slow({ hang: false }), slow({ hang: true })], { queue: 'stop' }),
      );
      const w = jobs.createWorker({ ...fast, queues: ['stop'], shutdownTimeoutMs: 5000 });
      started.push(w);
      let starts = 0;
      const bothStarted = new Promise<void>((resolve) => w.on('job:started', () => ++starts === 2 && resolve()));
      await w.start();
      await bothStarted;
      const completed = w.next('job:completed');
      const grace = w.next('stopping');
      const stopping = w.stop();
      expect((await grace).running).toBe(2);
      gate.open();
      await completed; // a handler that finishes within the grace period completes normally
      await clock.advance(5000); // the grace period ends: the hanging one is released
      await stopping;
      expect(w.state).toBe('stopped');
      const rows = await rowsOf([finishing!, hanging!]);
      expect(rows.map((r) => [r.state, r.attempt])).toEqual([
        ['completed', 1],
        ['available', 0], // released without using up an attempt
      ]);
      // It keeps its place in the claim order: run_at is still the enqueue time, not the stop.
      expect(rows[1]!.runAtMs).toBe(Date.UTC(2030, 7, 1));
    });

    test('a handler can snooze (attempt not counted), cancel or discard its job', async () => {
      let calls = 0;
      const control = defineJob('control', {
        handler: async (a: { action: 'snooze' | 'cancel' | 'discard' }) => {
          if (a.action === 'snooze' && calls++ === 0) throw new SnoozeJob(5000);
          if (a.action === 'cancel') throw new CancelJob('order was refunded');
          if (a.action === 'discard') throw new DiscardJob('address is invalid');
        },
      });
      const t0 = Date.UTC(2030, 9, 1);
      const clock = new FakeClock(t0);
      const jobs = client([control], { clock });
      const [snoozed, cancelled, discarded] = await h.inTransaction((tx) =>
        jobs.enqueueMany(tx, [control({ action: 'snooze' }), control({ action: 'cancel' }), control({ action: 'discard' })], { queue: 'control' }),
      );
      const w = jobs.createWorker({ ...fast, queues: ['control'] });
      started.push(w);
      const events = Promise.all([w.next('job:snoozed'), w.next('job:cancelled'), w.next('job:discarded')]);
      await w.start();
      const [snooze, cancel, discard] = await events;
      expect(snooze.delayMs).toBe(5000);
      expect(cancel.reason).toBe('order was refunded');
      expect(discard.reason).toBe('handler');
      let rows = await rowsOf([snoozed!, cancelled!, discarded!]);
      expect(rows.map((r) => [r.state, r.attempt])).toEqual([
        ['available', 0],
        ['cancelled', 1],
        ['discarded', 1],
      ]);
      expect(rows[0]?.errors ?? []).toEqual([]);
      expect(rows[0]?.runAtMs).toBe(t0 + 5000);
      expect(rows[1]?.errors?.[0]).toMatchObject({ reason: 'cancelled_by_handler', message: 'order was refunded' });
      expect(rows[2]?.errors?.[0]).toMatchObject({ reason: 'discarded_by_handler', message: 'address is invalid' });
      const completed = w.next('job:completed');
      clock.set(t0 + 5000);
      w.wake();
      expect((await completed).job.attempt).toBe(1);
      rows = await rowsOf([snoozed!]);
      expect(rows[0]?.state).toBe('completed');
    });

    test('cancel() of a running job aborts its handler at the next heartbeat and drops its result', async () => {
      let aborted: unknown = null;
      const long = defineJob('long_running', {
        handler: async (_a: { n: number }, ctx: JobContext) => {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted = ctx.signal.reason;
        },
      });
      const clock = new FakeClock(Date.UTC(2030, 10, 1));
      const jobs = client([long], { clock });
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, long({ n: 1 }), { queue: 'cancel_running' }));
      const w = jobs.createWorker({ ...fast, queues: ['cancel_running'], leaseMs: 5000, heartbeatMs: 1000 });
      started.push(w);
      const running = w.next('job:started');
      await w.start();
      await running;
      expect(await jobs.cancel(id)).toBe(true);
      const lost = w.next('job:lease-lost');
      await clock.advance(1000);
      expect((await lost).during).toBe('heartbeat');
      await new Promise((resolve) => setImmediate(resolve));
      expect((aborted as Error | null)?.name).toBe('LeaseLostError');
      const [row] = await rowsOf([id]);
      expect(row?.state).toBe('cancelled');
    });

    test('retention deletes finished jobs past their age, and nothing younger', async () => {
      const quick = defineJob('retained', { handler: async () => {} });
      const t0 = Date.UTC(2032, 0, 1);
      const clock = new FakeClock(t0);
      const jobs = client([quick], { clock });
      const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, [quick({ a: 1 }), quick({ a: 2 })], { queue: 'retention' }));
      const w = jobs.createWorker({ ...fast, queues: ['retention'], retention: { completedMs: 3_600_000 } });
      started.push(w);
      const done = count([w], 'job:completed', 2);
      await w.start();
      await done;
      clock.set(t0 + 3_600_000 - 1);
      await w.prune();
      expect(await rowsOf(ids)).toHaveLength(2);
      clock.set(t0 + 3_600_000 + 1);
      expect(await w.prune()).toBeGreaterThanOrEqual(2);
      expect(await rowsOf(ids)).toHaveLength(0);
    });

    test('an autocommit enqueue wakes this process\'s idle worker at once', async () => {
      const ping = defineJob('ping', { handler: async () => {} });
      const jobs = client([ping]);
      // A poll interval of an hour: only the wake-up can start the job within the test.
      const w = jobs.createWorker({ ...fast, queues: ['wake'], pollIntervalMs: 3_600_000 });
      started.push(w);
      const idle = w.next('idle');
      await w.start();
      await idle;
      const completed = w.next('job:completed');
      await jobs.enqueueAutocommit(ping({}), { queue: 'wake' });
      await completed;
      await w.stop();
    });

    const listenTest = (name: string, fn: () => Promise<void>) =>
      it(name, async (ctx) => {
        if (!available || caps().wakeups !== 'listen' || !h.adapter.listen) return ctx.skip();
        await fn();
      }, 30_000);

    listenTest('NOTIFY at commit wakes an idle LISTENing worker within milliseconds', async () => {
      const ping = defineJob('notify_ping', { handler: async () => {} });
      const jobs = client([ping]);
      // An hour between polls: only the notification can start the job within the test.
      const w = jobs.createWorker({ ...fast, queues: ['notify'], pollIntervalMs: 3_600_000 });
      started.push(w);
      // The enqueue goes through another client (as another process would), so this process's
      // own commit hook cannot wake the worker; only the notification reaches it.
      const producer = client([ping]);
      const listening = w.next('listening');
      await w.start();
      await listening;
      // The worker looks once after LISTEN is up; let that claim pass first, or it could pick the job.
      await w.drained();
      const completed = w.next('job:completed');
      const t = performance.now();
      const id = await h.inTransaction((tx) => producer.enqueue(tx, ping({}), { queue: 'notify' }));
      expect((await completed).job.id).toBe(id);
      // The poll interval is an hour: only the notification can have started it this soon.
      expect(performance.now() - t).toBeLessThan(5000);
    });

    listenTest('the LISTEN connection comes back after the server kills it', async () => {
      const ping = defineJob('notify_reconnect', { handler: async () => {} });
      const jobs = client([ping]);
      const w = jobs.createWorker({ ...fast, queues: ['notify_again'], pollIntervalMs: 3_600_000 });
      started.push(w);
      const listening = w.next('listening');
      await w.start();
      await listening;
      const back = w.next('listening');
      // The backend names the channel (not always the table's name: see notifyChannel).
      const channel = (h.adapter.backend({ table: h.table }) as { channel?: string | null }).channel ?? h.table;
      const killed = h.killListeners
        ? await h.killListeners()
        : (await h.raw!.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = ? AND pid <> pg_backend_pid()`, [`LISTEN "${channel}"`])).length;
      expect(killed).toBeGreaterThanOrEqual(1);
      expect((await back).reconnects).toBeGreaterThanOrEqual(1);
      await w.drained();
      const completed = w.next('job:completed');
      // Through another client, so only the re-opened LISTEN connection can wake the worker.
      await h.inTransaction((tx) => client([ping]).enqueue(tx, ping({}), { queue: 'notify_again' }));
      await completed;
    });

    const txTest = (name: string, fn: () => Promise<void>) =>
      it(name, async (ctx) => {
        if (!available || !caps().transactionalCompletion || !h.adapter.userTransaction) return ctx.skip();
        await fn();
      }, 30_000);

    txTest('a transactional job commits its own writes and its completion together, exactly once', async () => {
      let failOnce = true;
      const pay = defineJob('tx_pay', {
        transactional: true,
        handler: async (a: { order: number; fail?: boolean }, ctx: JobContext) => {
          await h.insertOrder(ctx.tx, a.order);
          if (a.fail && failOnce) {
            failOnce = false;
            throw new Error('payment gateway hiccup');
          }
        },
      });
      const jobs = client([pay]);
      const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, [pay({ order: 501 }), pay({ order: 502, fail: true })], { queue: 'txjob' }));
      // SQLite has one writer: transactional handlers there run one at a time.
      const w = jobs.createWorker({ ...fast, queues: ['txjob'], concurrency: db === 'sqlite' ? 1 : 10, retryPolicy: { delayMs: () => 0 } });
      started.push(w);
      const done = count([w], 'job:completed', 2);
      await w.start();
      await done;
      const rows = await rowsOf(ids);
      expect(rows.map((r) => [r.state, r.attempt])).toEqual([
        ['completed', 1],
        ['completed', 2],
      ]);
      // The failed first attempt's insert of 502 rolled back, or the retry would have hit the primary key.
      const orders = await h.orderIds();
      expect(orders.filter((o) => o === 501 || o === 502)).toEqual([501, 502]);
    });

    // SQLite has one writer: a handler holding its transaction open blocks every other write, so
    // a second worker could not rescue and finish the job while the zombie waits.
    const txZombieTest = db === 'sqlite' ? it.skip : txTest;
    txZombieTest('a transactional job that lost its lease rolls its writes back', async () => {
      const gate = latch();
      let zombieRunning!: () => void;
      const zombieStarted = new Promise<void>((r) => (zombieRunning = r));
      const audit = defineJob('tx_zombie', {
        transactional: true,
        handler: async (_a: { z: number }, ctx: JobContext) => {
          await h.insertOrder(ctx.tx, 800 + ctx.attempt);
          if (ctx.attempt === 1) {
            zombieRunning();
            await gate.wait;
          }
        },
      });
      const jobs = client([audit]);
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, audit({ z: 1 }), { queue: 'txzombie' }));
      const a = await start(jobs, { queues: ['txzombie'], concurrency: 1, leaseMs: 600_000, heartbeatMs: 500_000, rescueIntervalMs: 500_000 });
      await zombieStarted;
      await h.expireLease(id);
      const b = jobs.createWorker({ ...fast, queues: ['txzombie'] });
      started.push(b);
      const bDone = b.next('job:completed');
      await b.start();
      await bDone;
      const lost = a.next('job:lease-lost');
      gate.open();
      await lost;
      const orders = await h.orderIds();
      expect(orders).toContain(802);
      expect(orders).not.toContain(801);
      expect((await rowsOf([id]))[0]).toMatchObject({ state: 'completed', attempt: 2 });
    });

    test('a paused queue is not claimed by any worker until it is resumed', async () => {
      const ran: string[] = [];
      const q = defineJob('pausable', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
      const jobs = client([q]);
      // Another client (as another process would): its pause reaches the worker only through the database.
      const other = client([q]);
      const w = jobs.createWorker({ ...fast, queues: ['paused_q', 'open_q'], pauseCheckMs: 0 });
      started.push(w);
      await w.start();
      expect(await other.pauseQueue('paused_q')).toBe(true);
      expect(await other.pauseQueue('paused_q')).toBe(false);
      expect(await jobs.pausedQueues()).toContain('paused_q');
      const openDone = w.next('job:completed');
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, q({ tag: 'held' }), { queue: 'paused_q' });
        await jobs.enqueue(tx, q({ tag: 'free' }), { queue: 'open_q' });
      });
      w.wake();
      await openDone;
      // A full claim round after the open queue's job: the paused one is still waiting.
      const idle = w.next('idle');
      w.wake();
      await idle;
      expect(ran).toEqual(['free']);
      const resumed = w.next('job:completed');
      expect(await other.resumeQueue('paused_q')).toBe(true);
      w.wake();
      await resumed;
      expect(ran).toEqual(['free', 'held']);
      expect(await jobs.pausedQueues()).not.toContain('paused_q');
    });

    // The worker reads the paused queues once, at its first claim round, and with the fake clock
    // frozen never again: whatever happens in the database later, its own list says "none paused".
    // In both tests the claim rounds are driven by wake(); the hour-long poll keeps advance() from
    // firing a poll timer every 20 ms of fake time (3,000 claim rounds for a minute, seconds on SQLite).
    test('a pause from elsewhere holds for every claim that starts after it, before the worker re-reads its paused queues', async () => {
      const clock = new FakeClock(Date.UTC(2031, 0, 1));
      const ran: string[] = [];
      const q = defineJob('lazily_paused', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
      const jobs = client([q], { clock });
      const other = client([q], { clock });
      const w = jobs.createWorker({ ...fast, queues: ['lazy_paused', 'lazy_open'], pauseCheckMs: 60_000, pollIntervalMs: 3_600_000 });
      started.push(w);
      const firstRound = w.next('idle');
      await w.start();
      await firstRound;
      expect(await other.pauseQueue('lazy_paused')).toBe(true);
      const freeDone = w.next('job:completed');
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, q({ tag: 'held' }), { queue: 'lazy_paused' });
        await jobs.enqueue(tx, q({ tag: 'free' }), { queue: 'lazy_open' });
      });
      w.wake();
      await freeDone;
      // A full claim round after the one that took the open queue's job: the paused one still waits.
      const idle = w.next('idle');
      w.wake();
      await idle;
      expect(ran).toEqual(['free']);
      // The worker never learned of the pause, so its next claim asks for the queue again and takes the job.
      const heldDone = w.next('job:completed');
      expect(await other.resumeQueue('lazy_paused')).toBe(true);
      w.wake();
      await heldDone;
      expect(ran).toEqual(['free', 'held']);
    });

    test('a resume from elsewhere reaches a worker that knew of the pause at its next periodic read', async () => {
      const clock = new FakeClock(Date.UTC(2031, 0, 1));
      const ran: string[] = [];
      const q = defineJob('lazily_resumed', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
      const jobs = client([q], { clock });
      const other = client([q], { clock });
      expect(await other.pauseQueue('lazy_resumed')).toBe(true);
      const w = jobs.createWorker({ ...fast, queues: ['lazy_resumed', 'lazy_other'], pauseCheckMs: 60_000, pollIntervalMs: 3_600_000 });
      started.push(w);
      // The first claim round waits for the worker's first read, which sees the pause.
      const firstRound = w.next('idle');
      await w.start();
      await firstRound;
      const freeDone = w.next('job:completed');
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, q({ tag: 'held' }), { queue: 'lazy_resumed' });
        await jobs.enqueue(tx, q({ tag: 'free' }), { queue: 'lazy_other' });
      });
      w.wake();
      await freeDone;
      expect(await other.resumeQueue('lazy_resumed')).toBe(true);
      // Until its next read is due (the fake clock stands still) the worker does not ask for the queue.
      for (let i = 0; i < 2; i++) {
        const idle = w.next('idle');
        w.wake();
        await idle;
      }
      expect(ran).toEqual(['free']);
      // Now the read is due: the next claim round starts it beside itself, and the first round
      // after it returned asks for the queue again. Claim rounds follow one another until then;
      // each yields to the event loop (the memory database answers within one microtask chain,
      // and a loop that never yields would starve the read and the test's own timeout).
      await clock.advance(60_001);
      const heldDone = w.next('job:completed');
      while (!ran.includes('held')) {
        const idle = w.next('idle');
        w.wake();
        await idle;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await heldDone;
      expect(ran).toEqual(['free', 'held']);
    });

    test('queueConcurrency caps one queue inside the worker while others keep running', async () => {
      const gate = latch();
      let running = 0;
      let peak = 0;
      const startedFree: number[] = [];
      const slow = defineJob('limited_slow', {
        handler: async () => {
          peak = Math.max(peak, ++running);
          await gate.wait;
          running--;
        },
      });
      const quick = defineJob('limited_free', { handler: async (a: { n: number }) => void startedFree.push(a.n) });
      const jobs = client([slow, quick]);
      await h.inTransaction(async (tx) => {
        await jobs.enqueueMany(tx, Array.from({ length: 6 }, () => slow({})), { queue: 'limited' });
        await jobs.enqueueMany(tx, [quick({ n: 1 }), quick({ n: 2 }), quick({ n: 3 })], { queue: 'unlimited' });
      });
      const w = jobs.createWorker({ ...fast, queues: ['limited', 'unlimited'], concurrency: 8, queueConcurrency: { limited: 2 } });
      started.push(w);
      const freeDone = count([w], 'job:completed', 3);
      await w.start();
      await freeDone; // the other queue ran while two limited jobs held their slots
      expect(startedFree.sort()).toEqual([1, 2, 3]);
      expect(peak).toBe(2);
      const allDone = count([w], 'job:completed', 6);
      gate.open();
      await allDone;
      expect(peak).toBe(2);
    });

    it('a transactional enqueue wakes this process\'s idle worker when the ORM reports the commit', async (ctx) => {
      if (!available || !h.adapter.afterCommit) return ctx.skip();
      const ping = defineJob('commit_ping', { handler: async () => {} });
      const jobs = client([ping]);
      // No LISTEN and an hour between polls: only the commit hook can start the job in time.
      const w = jobs.createWorker({ ...fast, queues: ['commit_wake'], pollIntervalMs: 3_600_000, listen: false });
      started.push(w);
      const idle = w.next('idle');
      await w.start();
      await idle;
      const completed = w.next('job:completed');
      await h.inTransaction((tx) => jobs.enqueue(tx, ping({}), { queue: 'commit_wake' }));
      await completed;
    }, 30_000);

    test('a handler past its timeoutMs is aborted, the attempt fails, and its late result is ignored', async () => {
      let lateReturn = false;
      const slow = defineJob('timed_out', {
        timeoutMs: 1000,
        handler: async (_a: { n: number }, ctx: JobContext) => {
          if (ctx.attempt > 1) return;
          if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          lateReturn = true; // resolving after the timeout must not complete the job
        },
      });
      const clock = new FakeClock(Date.UTC(2031, 3, 1));
      const jobs = client([slow], { clock });
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, slow({ n: 1 }), { queue: 'timeout' }));
      const w = jobs.createWorker({ ...fast, queues: ['timeout'], retryPolicy: { delayMs: () => 0 } });
      started.push(w);
      const up = w.next('started');
      const running = w.next('job:started');
      await w.start();
      expect((await up).queues).toEqual(['timeout']);
      await running;
      const failed = w.next('job:failed');
      const retried = w.next('job:retried');
      // Subscribed first: on fast stores the retry can already run while the clock advances.
      const completed = w.next('job:completed');
      await clock.advance(1000);
      expect(((await failed).error as Error).name).toBe('JobTimeoutError');
      await retried;
      expect(lateReturn).toBe(true);
      w.wake();
      expect((await completed).job.attempt).toBe(2);
      const [row] = await rowsOf([id]);
      expect(row).toMatchObject({ state: 'completed', attempt: 2 });
      expect(row?.errors?.[0]?.message).toMatch(/timeout of 1000 ms/);
    });

    test('the redact option rewrites stored error messages and stacks', async () => {
      const leaky = defineJob('leaky_error', {
        maxAttempts: 1,
        handler: async () => {
          throw new Error('login failed: token=abc123');
        },
      });
      const jobs = client([leaky]);
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, leaky({}), { queue: 'redact' }));
      const w = jobs.createWorker({ ...fast, queues: ['redact'], redact: (t) => t.replace(/token=\w+/g, 'token=***') });
      started.push(w);
      const discarded = w.next('job:discarded');
      await w.start();
      await discarded;
      const entry = (await rowsOf([id]))[0]?.errors?.[0] as { message: string; stack?: string } | undefined;
      expect(entry?.message).toBe('login failed: token=***');
      expect(entry?.stack ?? '').not.toContain('abc123');
    });

    test('every write of a stale run is refused while a newer run holds the job', async () => {
      // Through the backend directly, so the stale run's writes arrive exactly while the newer
      // run is still running (a worker-level test cannot hold that moment on every store).
      const jobs = client([]);
      const b = jobs.backend;
      const db = jobs.dispatcherDb();
      const id = await jobs.enqueueAutocommit(defineJob('stale_fence', { handler: async () => {} })({}), { queue: 'stale_fence' });
      const claim = () => b.claim(db, { queues: ['stale_fence'], limit: 1, workerId: 'w-stale', leaseMs: 60_000, now: null });
      const [first] = await claim();
      expect(first?.id).toBe(id);
      await h.expireLease(id);
      // Another test's worker may rescue it first (rescuers serve every queue): either way it is
      // available again. The rescue looks a second ahead: the harness expires a lease by setting
      // it to the job's creation time, which on a fast store can be this very millisecond.
      await b.rescue(db, JSON.stringify({ at: new Date().toISOString(), message: 'lease expired' }), 10, new Date(Date.now() + 1_000));
      expect((await rowsOf([id]))[0]?.state).toBe('available');
      const [second] = await claim();
      expect(second?.id).toBe(id);
      expect(second!.leaseToken).not.toBe(first!.leaseToken);
      const stale = { id, token: first!.leaseToken };
      expect(await b.complete(db, [stale], null)).toEqual(new Set());
      expect(await b.extendLeases(db, [stale], 60_000, null)).toEqual(new Set());
      expect(await b.fail(db, { ...stale, to: 'discarded', delayMs: 0, errorJson: null, now: null })).toBe(false);
      expect(await b.release(db, [stale], null)).toBe(0);
      const [row] = await rowsOf([id]);
      expect([row?.state, row?.leaseToken, row?.attempt]).toEqual(['running', second!.leaseToken, 2]);
      // The newer run's own writes still hold.
      expect(await b.complete(db, [{ id, token: second!.leaseToken }], null)).toEqual(new Set([id]));
    });

    test('a late result after a lost lease is fenced off and never overwrites the newer run', async () => {
      const gate = latch();
      let firstRunning!: () => void;
      const firstStarted = new Promise<void>((r) => (firstRunning = r));
      const zombie = defineJob('zombie', {
        handler: async (_a: { z: number }, ctx: JobContext) => {
          if (ctx.attempt === 1) {
            firstRunning();
            await gate.wait;
          }
        },
      });
      const jobs = client([zombie]);
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, zombie({ z: 1 }), { queue: 'zombie' }));
      // Worker A: heartbeats far apart, so its lease can lapse while its handler still runs.
      // Concurrency 1: A's only slot stays busy with the zombie run, so only B can claim the retry.
      const a = await start(jobs, { queues: ['zombie'], concurrency: 1, leaseMs: 600_000, heartbeatMs: 500_000, rescueIntervalMs: 500_000 });
      await firstStarted;
      await h.expireLease(id);
      // Worker B rescues the job on start, claims it and completes it.
      const b = jobs.createWorker({ ...fast, queues: ['zombie'] });
      started.push(b);
      const bDone = b.next('job:completed');
      await b.start();
      await bDone;
      const lost = a.next('job:lease-lost');
      gate.open();
      expect((await lost).during).toBe('complete');
      const [row] = await rowsOf([id]);
      expect(row).toMatchObject({ state: 'completed', attempt: 2, lockedBy: b.id });
      expect(row?.errors?.map((e) => e.reason)).toEqual(['lease_expired']);
    });

    test('several dispatchers run every one of 5,000 jobs (fewer on the emulators) exactly once', async () => {
      // Up to 5 minutes: a loaded 2-vCPU machine and a slow store (see Harness.raceJobs).
      const N = h.raceJobs ?? 5000;
      const executions = new Map<number, number>();
      const ledger = defineJob('ledger', {
        handler: async (a: { n: number }) => {
          executions.set(a.n, (executions.get(a.n) ?? 0) + 1);
        },
      });
      const jobs = client([ledger]);
      await enqueueInTransactions(jobs, Array.from({ length: N }, (_, n) => ledger({ n })), { queue: 'race' });
      const workers = Array.from({ length: 4 }, () => jobs.createWorker({ ...fast, queues: ['race'], concurrency: 10 }));
      started.push(...workers);
      const done = count(workers, 'job:completed', N);
      await Promise.all(workers.map((w) => w.start()));
      await done;
      await Promise.all(workers.map((w) => w.stop()));
      expect(executions.size).toBe(N);
      expect([...executions.values()].every((c) => c === 1)).toBe(true);
      const rows = (await h.rows()).filter((r) => r.kind === 'ledger');
      expect(rows.filter((r) => r.state === 'completed' && r.attempt === 1)).toHaveLength(N);
      // Every dispatcher took part.
      expect(new Set(rows.map((r) => r.lockedBy)).size).toBe(4);
    }, 300_000);

    test('bad input is refused at enqueue with a typed error naming the path', async () => {
      const j = defineJob('bad_input', { handler: async () => {} });
      const jobs = client([j], { maxArgsBytes: 1024 });
      const cycle: Record<string, unknown> = {};
      cycle['me'] = cycle;
      const cases: [unknown, string][] = [
        [{ id: 10n }, 'args.id'],
        [{ fn: () => 1 }, 'args.fn'],
        [{ nested: { list: [1, undefined] } }, 'args.nested.list[1]'],
        [cycle, 'args.me'],
        [{ when: new Date() }, 'args.when'],
        [{ n: Number.NaN }, 'args.n'],
        [{ m: new Map() }, 'args.m'],
        [undefined, 'args'],
        [[1, 2], 'args'],
        [{ big: 'x'.repeat(2000) }, 'args'],
      ];
      const before = (await h.rows()).length;
      await h.inTransaction(async (tx) => {
        for (const [args, path] of cases) {
          const err = await jobs.enqueue(tx, j(args as never)).then(() => null, (e: unknown) => e);
          expect(err, path).toBeInstanceOf(InvalidArgsError);
          expect((err as InvalidArgsError).path).toBe(path);
        }
        await expect(jobs.enqueue(tx, j({}), { queue: "x'; DROP TABLE t; --" })).rejects.toBeInstanceOf(InvalidIdentifierError);
        await expect(jobs.enqueue(tx, j({}), { priority: 1.5 })).rejects.toThrow(/priority/);
      });
      expect((await h.rows()).length).toBe(before);
      expect(() => defineJob('bad kind!', { handler: async () => {} })).toThrow(InvalidIdentifierError);
      expect(() => createJobs({ adapter: h.adapter, table: 'jobs; drop' })).toThrow(InvalidIdentifierError);
    });

    test('rows with an unknown kind or undecodable args are discarded with a reason; others still run', async () => {
      const ok = defineJob('good_job', { handler: async () => {} });
      const strict = defineJob('strict_args', {
        parse: (raw) => {
          const v = raw as { n?: unknown };
          if (typeof v.n !== 'number') throw new TypeError('n must be a number');
          return v as { n: number };
        },
        handler: async () => {},
      });
      const jobs = client([ok, strict]);
      const unknown = await h.insertRaw({ kind: 'no_such_kind', argsJson: '{}' });
      const unknownAgain = await h.insertRaw({ kind: 'no_such_kind', argsJson: '{}' });
      const notObject = await h.insertRaw({ kind: 'good_job', argsJson: '[1,2,3]' });
      const proto = await h.insertRaw({ kind: '__proto__', argsJson: '{}' });
      const badShape = await h.insertRaw({ kind: 'strict_args', argsJson: '{"n":"seven"}' });
      const fine = await jobs.enqueueAutocommit(ok({}), { queue: 'corrupt' });
      const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
      const logger = { ...silentLogger, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }) };
      const w = jobs.createWorker({ ...fast, queues: ['corrupt'], logger });
      started.push(w);
      const reasons: string[] = [];
      w.on('job:discarded', (e) => reasons.push(e.reason));
      const discarded = count([w], 'job:discarded', 5);
      const completed = w.next('job:completed');
      await w.start();
      await Promise.all([discarded, completed]);
      expect(reasons.sort()).toEqual(['invalid_args', 'invalid_args', 'unknown_kind', 'unknown_kind', 'unknown_kind']);
      // One warning per unknown kind, however many of its jobs were discarded.
      expect(warnings.map((x) => x.fields?.['kind']).sort()).toEqual(['__proto__', 'no_such_kind']);
      expect(warnings[0]?.message).toMatch(/no handler is registered for job kind/);
      const rows = await rowsOf([unknown, unknownAgain, notObject, proto, badShape, fine]);
      expect(rows.map((r) => r.state)).toEqual(['discarded', 'discarded', 'discarded', 'discarded', 'discarded', 'completed']);
      expect(rows[0]?.errors?.[0]?.reason).toBe('unknown_kind');
      expect(rows[4]?.errors?.[0]?.message).toContain('n must be a number');
    });

    test('rejectUnknownKinds: enqueue of an unregistered kind throws before anything is sent; the transaction goes on', async () => {
      const known = defineJob('registered_kind', { handler: async () => {} });
      const stray = defineJob('unregistered_kind', { handler: async () => {} });
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [known], rejectUnknownKinds: true }) as Jobs<unknown>;
      const id = await h.inTransaction(async (tx) => {
        const err = await jobs.enqueue(tx, stray({}), { queue: 'strict_kinds' }).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(UnknownJobKindError);
        expect((err as UnknownJobKindError).kind).toBe('unregistered_kind');
        await expect(jobs.enqueueMany(tx, [known({}), stray({})], { queue: 'strict_kinds' })).rejects.toBeInstanceOf(UnknownJobKindError);
        return jobs.enqueue(tx, known({}), { queue: 'strict_kinds' });
      });
      await expect(jobs.enqueueAutocommit(stray({}), { queue: 'strict_kinds' })).rejects.toBeInstanceOf(UnknownJobKindError);
      expect((await h.rows()).filter((r) => r.queue === 'strict_kinds').map((r) => [r.id, r.kind])).toEqual([[id, 'registered_kind']]);
      // Off by default: a process that only enqueues need not register every handler.
      const lenient = await client([known]).enqueueAutocommit(stray({}), { queue: 'lenient_kinds' });
      expect(h.adapter.backend({ table: h.table }).isJobId(lenient)).toBe(true);
    });

    test('idle and drained(): nothing due is left in the queues and nothing runs in this worker', async () => {
      const gate = latch();
      let running = 0;
      const idleWhileRunning: number[] = [];
      const slow = defineJob('drain_slow', {
        handler: async () => {
          running++;
          await gate.wait;
          running--;
        },
      });
      let flakyRuns = 0;
      const flaky = defineJob('drain_flaky', {
        handler: async () => {
          if (++flakyRuns === 1) throw new Error('first attempt fails; retried at once');
        },
      });
      const chained: JobDefinition<{ n: number }> = defineJob('drain_chained', {
        handler: async (a: { n: number }) => {
          if (a.n === 0) await jobs.enqueueAutocommit(chained({ n: 1 }), { queue: 'drain' });
        },
      });
      const jobs = client([slow, flaky, chained]);
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, slow({}), { queue: 'drain' });
        await jobs.enqueue(tx, flaky({}), { queue: 'drain' });
        await jobs.enqueue(tx, chained({ n: 0 }), { queue: 'drain' });
      });
      // An hour between polls and a slot to spare: the first claim comes back short while the
      // slow job runs, and only wake-ups (never the poll) can finish the drain within the test.
      const w = jobs.createWorker({ ...fast, queues: ['drain'], concurrency: 4, pollIntervalMs: 3_600_000, retryPolicy: { delayMs: () => 0 } });
      started.push(w);
      w.on('idle', () => {
        if (running > 0 || w.running > 0) idleWhileRunning.push(Math.max(running, w.running));
      });
      const slowStarted = w.next('job:started', (e) => e.job.kind === 'drain_slow');
      await w.start();
      await slowStarted;
      // The first claim came back short (three jobs for four slots) while the slow job runs: not idle.
      expect(idleWhileRunning).toEqual([]);
      const drained = w.drained();
      gate.open();
      await drained;
      expect(idleWhileRunning).toEqual([]);
      expect(w.running).toBe(0);
      const rows = (await h.rows()).filter((r) => r.queue === 'drain');
      expect(rows.map((r) => `${r.kind}:${r.state}`).sort()).toEqual(['drain_chained:completed', 'drain_chained:completed', 'drain_flaky:completed', 'drain_slow:completed']);
      await w.stop();
      await expect(w.drained()).rejects.toBeInstanceOf(StateError);
    });

    sqlTest('work() fails fast with a precise message when the table is missing or incomplete', async () => {
      const jobs = createJobs({ adapter: h.adapter, table: 'concordia_missing_table' });
      const err = await jobs.work().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect((err as Error).message).toMatch(/concordia_missing_table.*does not exist/);
      expect((err as Error).message).toMatch(/0001_create_jobs\.sql/);
    });

    // Last on purpose: from here on the table hands out ids past 2^53, so the suites below run on them too.
    testWhere(() => h.bumpIds !== undefined)('ids past 2^53 stay exact through enqueue, claim, complete, fail, retry, discard, cancel and list', async () => {
      // 2^53 + 1 is the first integer a JS number cannot hold: as a number it reads as 2^53.
      await h.bumpIds!('9007199254740993');
      const runs = new Map<string, number>();
      const big = defineJob('big_id', {
        maxAttempts: 2,
        handler: async (a: { mode: 'ok' | 'flaky' | 'dead' }, ctx: JobContext) => {
          runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
          if (a.mode === 'dead' || (a.mode === 'flaky' && ctx.attempt === 1)) throw new Error(`${a.mode} on attempt ${ctx.attempt}`);
        },
      });
      const jobs = client([big]);
      const batch = await h.inTransaction((tx) =>
        jobs.enqueueMany(tx, [big({ mode: 'ok' }), big({ mode: 'flaky' }), big({ mode: 'dead' }), big({ mode: 'ok' })], { queue: 'bigid' }),
      );
      const single = await jobs.enqueueAutocommit(big({ mode: 'ok' }), { queue: 'bigid' });
      const ids = [...batch, single];
      expect(ids[0]).toBe('9007199254740993');
      expect(ids.map((id) => BigInt(id) - 9007199254740993n)).toEqual([0n, 1n, 2n, 3n, 4n]);
      expect(await jobs.cancel(ids[3]!)).toBe(true);
      expect((await listEnqueued(jobs, { queue: 'bigid' })).map((j) => [j.id, j.state])).toEqual([
        [ids[0], 'available'],
        [ids[1], 'available'],
        [ids[2], 'available'],
        [ids[3], 'cancelled'],
        [ids[4], 'available'],
      ]);
      const w = jobs.createWorker({ ...fast, queues: ['bigid'], retryPolicy: { delayMs: () => 0 } });
      started.push(w);
      const done = Promise.all([count([w], 'job:completed', 3), count([w], 'job:discarded', 1), count([w], 'job:retried', 2)]);
      const lost: string[] = [];
      w.on('job:lease-lost', (e) => lost.push(e.job.id));
      await w.start();
      await done;
      await w.stop();
      expect(lost).toEqual([]);
      const rows = await rowsOf(ids);
      expect(rows.map((r) => [r.id, r.state, r.attempt])).toEqual([
        [ids[0], 'completed', 1],
        [ids[1], 'completed', 2],
        [ids[2], 'discarded', 2],
        [ids[3], 'cancelled', 0],
        [ids[4], 'completed', 1],
      ]);
      expect(Object.fromEntries(runs)).toEqual({ [ids[0]!]: 1, [ids[1]!]: 2, [ids[2]!]: 2, [ids[4]!]: 1 });
      expect(rows[2]?.errors?.map((e) => e.message)).toEqual(['dead on attempt 1', 'dead on attempt 2']);
    });

    const suite = { db, harness: () => h, test, sqlTest, client, start };
    uniqueJobTests(suite);
    periodicJobTests(suite);
    claimAheadTests(suite);
    dashboardStoreTests(suite);
  });
}
