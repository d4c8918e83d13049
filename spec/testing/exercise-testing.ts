/**
 * The `concordia/testing` suite, run against one adapter × database pair on the real database.
 * Each `<adapter>.<db>.spec.ts` here calls {@link exerciseTesting} once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, StateError, type Jobs, type JobMiddleware, type RetryPolicy } from '../../lib/index.ts';
import {
  assertEnqueued,
  assertNotEnqueued,
  drainQueue,
  FakeClock,
  JobAssertionError,
  listEnqueued,
  runJob,
} from '../../lib/testing/index.ts';
import { isReachable, type Db } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { redisReachable } from '../support/redis-harness.ts';

export function exerciseTesting(label: string, db: Db | 'memory' | 'redis', factory: () => Promise<Harness>): void {
  // A Redis MULTI runs nothing before EXEC: the helpers refuse to read inside one (a typed
  // error) instead of answering with the committed jobs only.
  const readsInsideTx = db !== 'redis';
  describe(`concordia/testing: ${label}`, () => {
    let h: Harness;
    let available = true;

    beforeAll(async () => {
      if (db === 'redis') available = await redisReachable();
      else if (db !== 'memory') available = await isReachable(db);
      if (available) h = await factory();
    }, 30_000);
    afterAll(async () => {
      await h?.close();
    });

    const test = (name: string, fn: () => Promise<void>) =>
      it(name, async (ctx) => {
        if (!available) return ctx.skip();
        await fn();
      });

    /** A client on the harness's table; `tag` keeps each test's queue apart. */
    function client(defs: Parameters<typeof createJobs>[0]['jobs'], clock?: FakeClock): Jobs<unknown> {
      return createJobs({ adapter: h.adapter, table: h.table, jobs: defs ?? [], ...(clock && { clock }) }) as Jobs<unknown>;
    }

    test('assertEnqueued sees a job inside the open transaction, and after commit', async () => {
      const sendEmail = defineJob('t_send_email', { handler: async (_args: { orderId: string; to: { email: string; name: string } }) => {} });
      const jobs = client([sendEmail]);
      const runAt = new Date('2031-02-03T04:05:06.789Z');
      const id = await h.inTransaction(async (tx) => {
        const id = await jobs.enqueue(tx, sendEmail({ orderId: 'o-1', to: { email: 'a@example.com', name: 'Ann' } }), { queue: 't_emails', priority: 5, runAt });
        if (readsInsideTx) {
          const hits = await assertEnqueued(jobs, sendEmail, { tx, args: { to: { email: 'a@example.com' } }, queue: 't_emails', priority: 5, runAt });
          expect(hits.map((j) => j.id)).toEqual([id]);
          expect(hits[0]).toMatchObject({ kind: 't_send_email', state: 'available', attempt: 0, args: { orderId: 'o-1' } });
        } else {
          // Never the committed jobs only: assertNotEnqueued would then pass on a MULTI that enqueues.
          await expect(assertEnqueued(jobs, sendEmail, { tx })).rejects.toThrow(StateError);
          await expect(assertNotEnqueued(jobs, sendEmail, { tx })).rejects.toThrow(/cannot read inside a Redis MULTI/);
          await expect(listEnqueued(jobs, { tx })).rejects.toThrow(StateError);
        }
        // Only SQL servers with separate connections can show the row is invisible outside (SQLite
        // adapters share their one connection; the memory store buffers like a server does).
        if (db === 'postgres' || db === 'mysql' || db === 'memory' || db === 'redis') {
          expect(await listEnqueued(jobs, { kind: sendEmail })).toEqual([]);
        }
        return id;
      });
      const after = await assertEnqueued(jobs, 't_send_email', { args: { orderId: 'o-1' }, count: 1 });
      expect(after[0]?.id).toBe(id);
      expect(after[0]?.runAt.toISOString()).toBe(runAt.toISOString());
      expect(await listEnqueued(jobs, { queue: 't_emails', state: 'available' })).toHaveLength(1);
      expect(await listEnqueued(jobs, { queue: 't_emails', state: 'completed' })).toHaveLength(0);
    });

    test('a rolled-back enqueue is not enqueued', async () => {
      const audit = defineJob('t_audit', { handler: async () => {} });
      const jobs = client([audit]);
      await expect(
        h.inTransaction(async (tx) => {
          await jobs.enqueue(tx, audit({ n: 1 }));
          if (readsInsideTx) await assertEnqueued(jobs, audit, { tx });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await assertNotEnqueued(jobs, audit);
    });

    test('failures throw a JobAssertionError that lists what was found', async () => {
      const invoice = defineJob('t_invoice', { handler: async (_args: { invoiceId: number; lines: number[] }) => {} });
      const jobs = client([invoice]);
      await jobs.enqueueAutocommit(invoice({ invoiceId: 7, lines: [1, 2] }), { queue: 't_invoices', metadata: { tenant: 'acme' } });
      const error = await assertEnqueued(jobs, invoice, { args: { invoiceId: 8 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobAssertionError);
      expect(error).toBeInstanceOf(Error);
      const e = error as JobAssertionError;
      expect(e.message).toContain('kind=t_invoice');
      expect(e.message).toContain('args⊇{"invoiceId":8}');
      // PostgreSQL's jsonb reorders keys, so the listed args are checked key by key.
      // Ids are numbers on SQL and memory, UUIDv7 strings on Redis.
      expect(e.message).toMatch(/#(?:\d+|[0-9a-f-]{36}) t_invoice queue=t_invoices state=available priority=0 runAt=\S+ args=\{.*\} metadata=\{"tenant":"acme"\}/);
      expect(e.message).toContain('"invoiceId":7');
      expect(e.message).toContain('"lines":[1,2]');
      expect(e.found).toHaveLength(1);
      // Arrays match whole; metadata partially; wrong queue fails.
      await expect(assertEnqueued(jobs, invoice, { args: { lines: [1] } })).rejects.toThrow(JobAssertionError);
      await assertEnqueued(jobs, invoice, { args: { lines: [1, 2] }, metadata: { tenant: 'acme' } });
      await expect(assertEnqueued(jobs, invoice, { queue: 'elsewhere' })).rejects.toThrow(/found 0 matching/);
      await expect(assertEnqueued(jobs, invoice, { count: 2 })).rejects.toThrow(/Expected 2 job\(s\)/);
      await expect(assertNotEnqueued(jobs, invoice, { args: { invoiceId: 7 } })).rejects.toThrow(/Expected no job matching kind=t_invoice/);
      await assertNotEnqueued(jobs, invoice, { args: { invoiceId: 9 } });
      await expect(assertEnqueued(jobs, 't_never', {})).rejects.toThrow(/Jobs of kind "t_never" \(0\):\n {2}\(none\)/);
    });

    test('runJob runs the handler through middleware, with the stored args shape, no database', async () => {
      const seen: unknown[] = [];
      const order: string[] = [];
      const resize = defineJob('t_resize', {
        queue: 't_images',
        handler: async (args: { url: string; when: string }, ctx) => {
          order.push('handler');
          seen.push({ args, queue: ctx.queue, attempt: ctx.attempt, metadata: ctx.metadata });
          if (args.url === 'bad') throw new Error('cannot fetch');
        },
      });
      const outer: JobMiddleware = async (job, next) => {
        order.push(`outer:${job.kind}`);
        await next();
        order.push('outer:after');
      };
      const jobs = client([resize]);
      const before = (await listEnqueued(jobs)).length;
      const ok = await runJob(jobs, resize({ url: 'a.png', when: '2030-05-06' }), { middleware: [outer], attempt: 2, metadata: { trace: 'x' } });
      expect(ok).toEqual({ status: 'completed' });
      expect(seen[0]).toEqual({ args: { url: 'a.png', when: '2030-05-06' }, queue: 't_images', attempt: 2, metadata: { trace: 'x' } });
      expect(order).toEqual(['outer:t_resize', 'handler', 'outer:after']);
      const bad = await runJob(jobs, resize({ url: 'bad', when: '' }));
      expect(bad.status).toBe('failed');
      expect((bad.error as Error).message).toBe('cannot fetch');
      // The same JSON check as enqueue: a Date would not survive the jobs table.
      const dated = await runJob(jobs, resize({ url: 'a.png', when: new Date() as unknown as string }));
      expect(dated.status).toBe('failed');
      expect((dated.error as Error).name).toBe('InvalidArgsError');
      const unknown = defineJob('t_unregistered', { handler: async () => {} });
      const missing = await runJob(jobs, unknown({}));
      expect(missing.status).toBe('failed');
      expect((missing.error as Error).message).toMatch(/not registered/);
      expect((await listEnqueued(jobs)).length).toBe(before);
    });

    test('drainQueue runs due jobs (and the jobs they enqueue) through a real worker', async () => {
      const done: string[] = [];
      // The handler enqueues through the client it is registered with: a late-bound reference.
      const self: { jobs?: Jobs<unknown> } = {};
      const follow = defineJob('t_follow', { queue: 't_drain', handler: async (args: { n: number }) => void done.push(`follow ${args.n}`) });
      const step = defineJob('t_step', {
        queue: 't_drain',
        handler: async (args: { n: number }) => {
          done.push(`step ${args.n}`);
          if (args.n === 2) await self.jobs!.enqueueAutocommit(follow({ n: 2 }));
        },
      });
      const boom = defineJob('t_boom', { queue: 't_drain', maxAttempts: 1, handler: async () => Promise.reject(new Error('boom')) });
      const seenMiddleware: string[] = [];
      const jobs = (self.jobs = client([step, follow, boom]));
      await h.inTransaction(async (tx) => {
        await jobs.enqueueMany(tx, [step({ n: 1 }), step({ n: 2 }), boom({})]);
      });
      const result = await drainQueue(jobs, { queues: ['t_drain'], middleware: [async (j, next) => (seenMiddleware.push(j.kind), next())] });
      expect(result.hitMax).toBe(false);
      expect(result.completed).toBe(3);
      expect(result.failed).toBe(1);
      expect(result.ran.map((r) => [r.kind, r.outcome])).toEqual([
        ['t_step', 'completed'],
        ['t_step', 'completed'],
        ['t_boom', 'discarded'],
        ['t_follow', 'completed'],
      ]);
      expect((result.ran[2]?.error as Error).message).toBe('boom');
      expect(done).toEqual(['step 1', 'step 2', 'follow 2']);
      expect(seenMiddleware).toEqual(['t_step', 't_step', 't_boom', 't_follow']);
      expect(await listEnqueued(jobs, { queue: 't_drain', state: 'completed' })).toHaveLength(3);
      await assertEnqueued(jobs, boom, { state: 'discarded' });
      // Nothing left: a second drain runs nothing.
      expect((await drainQueue(jobs, { queues: ['t_drain'] })).ran).toEqual([]);
    });

    test('drainQueue stops at `max`, leaving the rest queued', async () => {
      const tick = defineJob('t_tick', { queue: 't_cap', handler: async () => {} });
      const jobs = client([tick]);
      await jobs.enqueueManyAutocommit([tick({ i: 1 }), tick({ i: 2 }), tick({ i: 3 }), tick({ i: 4 })]);
      const first = await drainQueue(jobs, { queues: ['t_cap'], max: 3 });
      expect(first.hitMax).toBe(true);
      expect(first.ran.map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
      expect(await listEnqueued(jobs, { queue: 't_cap', state: 'available' })).toHaveLength(1);
      const rest = await drainQueue(jobs, { queues: ['t_cap'] });
      expect(rest.ran).toHaveLength(1);
      expect(rest.hitMax).toBe(false);
    });

    test('drainQueue with a FakeClock: scheduled jobs and retries run once time is advanced', async () => {
      const clock = new FakeClock(new Date('2030-03-01T00:00:00.000Z'));
      let calls = 0;
      const flaky = defineJob('t_flaky', {
        queue: 't_clock',
        maxAttempts: 3,
        handler: async () => {
          if (++calls === 1) throw new Error('first try fails');
        },
      });
      const later = defineJob('t_later', { queue: 't_clock', handler: async () => {} });
      const retryPolicy: RetryPolicy = { delayMs: () => 5_000 };
      const jobs = client([flaky, later], clock);
      await h.inTransaction(async (tx) => {
        await jobs.enqueue(tx, flaky({}));
        await jobs.enqueue(tx, later({}), { delayMs: 60_000 });
      });
      const first = await drainQueue(jobs, { queues: ['t_clock'], retryPolicy });
      expect(first.ran.map((r) => [r.kind, r.outcome, r.attempt])).toEqual([['t_flaky', 'retried', 1]]);
      await clock.advance(5_000);
      const second = await drainQueue(jobs, { queues: ['t_clock'], retryPolicy });
      expect(second.ran.map((r) => [r.kind, r.outcome, r.attempt])).toEqual([['t_flaky', 'completed', 2]]);
      await assertEnqueued(jobs, later, { state: 'available', runAt: new Date('2030-03-01T00:01:00.000Z') });
      await clock.advance(55_000);
      const third = await drainQueue(jobs, { queues: ['t_clock'], retryPolicy });
      expect(third.ran.map((r) => [r.kind, r.outcome])).toEqual([['t_later', 'completed']]);
    });

    test('drainQueue discards unknown kinds without hanging', async () => {
      const known = defineJob('t_known', { queue: 't_unknown', handler: async () => {} });
      const stranger = defineJob('t_stranger', { queue: 't_unknown', handler: async () => {} });
      await client([stranger]).enqueueAutocommit(stranger({}));
      const jobs = client([known]);
      const { ran } = await drainQueue(jobs, { queues: ['t_unknown'] });
      expect(ran.map((r) => [r.kind, r.outcome])).toEqual([['t_stranger', 'discarded']]);
    });
  });
}
