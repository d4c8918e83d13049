/**
 * Hostile suite, class "handlers that ignore their abort signal after a timeout", on
 * PostgreSQL, MariaDB and SQLite. The timed-out attempt is recorded at once, but the handler
 * still holds its slot (it may still hold resources); the worker must make that visible:
 * a `job:stalled` event and a `stalled` count, released when the handler finally returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, silentLogger, type Jobs } from '../../lib/index.ts';
import { isReachable } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { rawDriverHarness } from '../support/harnesses.ts';

describe.each(['postgres', 'mysql', 'sqlite'] as const)('hostile: stalled handlers on %s', (db) => {
  let h: Harness | undefined;
  let available = true;
  beforeAll(async () => {
    available = await isReachable(db);
    if (available) h = await rawDriverHarness(db);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a handler that ignores its aborted signal is reported stalled and counted until it returns', async (ctx) => {
    if (!available) return ctx.skip();
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const stubborn = defineJob<{ n: number }>('stalled_stubborn', {
      maxAttempts: 1,
      timeoutMs: 50,
      // Ignores ctx.signal on purpose.
      handler: async () => stuck,
    });
    const next = defineJob<{ n: number }>('stalled_next', { handler: async () => {} });
    const jobs = createJobs({ adapter: h!.adapter, table: h!.table, jobs: [stubborn, next] }) as Jobs<unknown>;
    const stubbornId = await jobs.enqueueAutocommit(stubborn({ n: 1 }), { queue: 'stalled' });
    const worker = jobs.createWorker({ queues: ['stalled'], concurrency: 1, pollIntervalMs: 20, logger: silentLogger });
    try {
      const stalled = worker.next('job:stalled');
      const discarded = worker.next('job:discarded');
      await worker.start();
      const event = await stalled;
      await discarded;
      expect(event).toEqual({ job: expect.objectContaining({ id: stubbornId, kind: 'stalled_stubborn' }), timeoutMs: 50 });
      expect(worker.stalled).toBe(1);
      expect(worker.running).toBe(1);
      const row = (await h!.rows()).find((r) => r.id === stubbornId);
      expect(row?.state).toBe('discarded');
      expect(row?.errors?.[0]?.message).toMatch(/longer than its timeout of 50 ms/);

      // With concurrency 1 the next job can only start once the stalled handler gives its slot back.
      const completed = worker.next('job:completed');
      await jobs.enqueueAutocommit(next({ n: 2 }), { queue: 'stalled' });
      release();
      await completed;
      expect(worker.stalled).toBe(0);
    } finally {
      release();
      await worker.stop();
    }
  });
});
