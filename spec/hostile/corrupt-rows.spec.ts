/**
 * Corrupt rows written behind our back (bad JSON, shapes that are not ours, unknown state or
 * kind, NULLs where we never write them, attempt past max_attempts), against every worker
 * statement: claim, complete, fail, rescue, prune, and the readers (list and count for the CLI,
 * the testing helpers). On PostgreSQL, MariaDB and SQLite.
 *
 * Invariants, asserted in each case: every job of ours ends in a recorded state (bad args or
 * metadata → discarded `invalid_args`, unknown kind → `unknown_kind`); one bad row never blocks
 * the others; no worker statement fails; no unhandled rejection.
 */
import { describe, expect } from 'vitest';
import { createJobs, defineJob, type Jobs, type Logger } from '../../lib/index.ts';
import { drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import type { Db } from '../support/databases.ts';
import { cli, hostileSuite } from './corrupt-rows-env.ts';

const HOUR = 3_600_000;

/** A logger that keeps what the worker reports as failed statements. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (message, fields) => void errors.push(`${message} ${String(fields?.['error'])}`),
  };
}

/** Starts a worker that claims nothing, and resolves with its first rescue (rejects if a statement fails). */
async function rescueOnce(jobs: Jobs<unknown>, logger: Logger): Promise<number> {
  const worker = jobs.createWorker({ queues: ['nothing_to_claim'], logger, pollIntervalMs: HOUR });
  const outcome = Promise.race([
    worker.next('jobs:rescued').then((e) => e.count),
    worker.next('db-error').then((e) => Promise.reject(e.error as Error)),
  ]);
  await worker.start();
  try {
    return await outcome;
  } finally {
    await worker.stop();
  }
}


describe.each<[Db]>([['postgres'], ['mysql'], ['sqlite']])('corrupt rows written behind our back: %s', (db) => {
  const suite = hostileSuite(db);
  const test = suite.test;

  const ok = defineJob('ok', { handler: async () => {} });
  /** Fails its first attempt, then succeeds: exercises the failure record, then the completion. */
  const flaky = defineJob('flaky', {
    handler: async (_a: { n?: number }, ctx) => {
      if (ctx.attempt === 1 || ctx.attempt > ctx.maxAttempts) throw new Error(`flaky on attempt ${ctx.attempt}`);
    },
  });
  const failing = defineJob('failing', {
    handler: async () => {
      throw new Error('always fails');
    },
  });
  const client = (): Jobs<unknown> => createJobs({ adapter: suite.env.adapter, table: suite.env.table, jobs: [ok, flaky, failing] }) as Jobs<unknown>;
  const stateOf = async (ids: string[]) => {
    const rows = new Map((await suite.env.view.rows()).map((r) => [r.id, r]));
    return ids.map((id) => rows.get(id));
  };

  test('claim, fail and complete: bad args or metadata are discarded as invalid_args, unknown kinds as unknown_kind, the rest run', async () => {
    const jobs = client();
    const q = { queue: 'claimq' };
    const bad = suite.env.acceptsBadJson;
    const invalid = [
      ...(bad ? [await suite.env.put({ ...q, args: '{"a":' }), await suite.env.put({ ...q, args: '' }), await suite.env.put({ ...q, metadata: 'not json' })] : []),
      await suite.env.put({ ...q, args: '"text"' }),
      await suite.env.put({ ...q, args: '[1,2]' }),
      await suite.env.put({ ...q, args: 'null' }),
      await suite.env.put({ ...q, args: '7' }),
      await suite.env.put({ ...q, metadata: '[1]' }),
      await suite.env.put({ ...q, metadata: '"x"' }),
    ];
    const unknown = [await suite.env.put({ ...q, kind: 'ghost' }), await suite.env.put({ ...q, kind: 'constructor' }), await suite.env.put({ ...q, kind: '' })];
    // Bad or foreign `errors` history: the failure is still recorded, and the job runs again.
    const history = [
      ...(bad ? [await suite.env.put({ ...q, kind: 'flaky', errors: 'oops{' })] : []),
      await suite.env.put({ ...q, kind: 'flaky', errors: '{"not":"an array"}' }),
      await suite.env.put({ ...q, kind: 'flaky', errors: '42' }),
    ];
    // Past its max_attempts: one more attempt, and a failure then discards it.
    const pastMaxFails = await suite.env.put({ ...q, kind: 'failing', attempt: 7, maxAttempts: 3 });
    const pastMaxOk = await suite.env.put({ ...q, kind: 'ok', attempt: 7, maxAttempts: 3 });
    const foreignState = await suite.env.put({ ...q, state: 'weird' });
    const healthy = await jobs.enqueueAutocommit(ok({}), q);

    const logger = recordingLogger();
    const result = await drainQueue(jobs, { queues: ['claimq'], logger, retryPolicy: { delayMs: () => 0 } });
    expect(logger.errors).toEqual([]);
    expect(result.hitMax).toBe(false);

    const rows = await suite.env.view.rows();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of invalid) expect(byId.get(id), id).toMatchObject({ state: 'discarded', errors: [expect.objectContaining({ reason: 'invalid_args' })] });
    for (const id of unknown) expect(byId.get(id), id).toMatchObject({ state: 'discarded', errors: [expect.objectContaining({ reason: 'unknown_kind' })] });
    for (const id of history) {
      const row = byId.get(id)!;
      expect(row.state, id).toBe('completed');
      expect(Array.isArray(row.errors), id).toBe(true);
      // The foreign history is kept (as the first entry), and our failure follows it.
      expect(row.errors!.length, id).toBe(2);
      expect(row.errors![1]).toMatchObject({ message: 'flaky on attempt 1' });
    }
    expect(byId.get(pastMaxFails)).toMatchObject({ state: 'discarded', attempt: 8 });
    expect(byId.get(pastMaxOk)).toMatchObject({ state: 'completed', attempt: 8 });
    expect(byId.get(foreignState)).toMatchObject({ state: 'weird', attempt: 0 });
    expect(byId.get(healthy)).toMatchObject({ state: 'completed' });
  });

  test('rescue takes back every expired job in one batch, corrupt rows included, and keeps each one\'s place', async () => {
    const now = Date.now();
    const expired = now - HOUR;
    const q = { queue: 'rescueq', state: 'running', leaseToken: 'gone', lockedBy: 'dead-worker', attempt: 1 };
    const plain = await suite.env.put({ ...q, runAtMs: now - 5 * HOUR, leaseExpiresAtMs: expired });
    const corrupt = [
      ...(suite.env.acceptsBadJson ? [await suite.env.put({ ...q, runAtMs: now - 4 * HOUR, leaseExpiresAtMs: expired, errors: '[{"broken"' })] : []),
      await suite.env.put({ ...q, runAtMs: now - 4 * HOUR, leaseExpiresAtMs: expired, errors: '{"an":"object"}' }),
      await suite.env.put({ ...q, runAtMs: now - 4 * HOUR, leaseExpiresAtMs: expired, leaseToken: null, lockedBy: null }),
      // Running without a lease expiry: no worker can hold it.
      await suite.env.put({ ...q, runAtMs: now - 4 * HOUR, leaseExpiresAtMs: null }),
    ];
    const exhausted = await suite.env.put({ ...q, attempt: 9, maxAttempts: 3, leaseExpiresAtMs: expired, ...(suite.env.acceptsBadJson && { errors: 'nope' }) });
    const alive = await suite.env.put({ ...q, leaseExpiresAtMs: now + HOUR });

    const jobs = client();
    const logger = recordingLogger();
    expect(await rescueOnce(jobs, logger)).toBe(2 + corrupt.length);
    expect(logger.errors).toEqual([]);

    const [p, ...c] = await stateOf([plain, ...corrupt]);
    expect(p).toMatchObject({ state: 'available', runAtMs: now - 5 * HOUR, errors: [expect.objectContaining({ reason: 'lease_expired' })] });
    for (const row of c) {
      expect(row).toMatchObject({ state: 'available', runAtMs: now - 4 * HOUR });
      expect(row!.errors!.at(-1)).toMatchObject({ reason: 'lease_expired', attempt: 1 });
    }
    const [ex, al] = await stateOf([exhausted, alive]);
    expect(ex).toMatchObject({ state: 'discarded' });
    expect(ex!.errors!.at(-1)).toMatchObject({ reason: 'lease_expired' });
    expect(al).toMatchObject({ state: 'running' });
  });

  test('a rescued job keeps its place ahead of jobs enqueued after it', async () => {
    const now = Date.now();
    const order: string[] = [];
    const track = defineJob('track', { handler: async (_a, ctx) => void order.push(ctx.id) });
    const jobs = createJobs({ adapter: suite.env.adapter, table: suite.env.table, jobs: [track] }) as Jobs<unknown>;
    // Its worker died holding it; it was due ten minutes ago.
    const early = await suite.env.put({ queue: 'placeq', kind: 'track', state: 'running', attempt: 1, runAtMs: now - 600_000, leaseToken: 'gone', leaseExpiresAtMs: now - 60_000 });
    const later = await jobs.enqueueAutocommit(track({}), { queue: 'placeq' });
    expect(await rescueOnce(jobs, recordingLogger())).toBe(1);
    expect((await stateOf([early]))[0]?.runAtMs).toBe(now - 600_000);
    await drainQueue(jobs, { queues: ['placeq'] });
    expect(order).toEqual([early, later]);
  });

  test('prune, list, count, the testing helpers and the CLI read past corrupt rows', async () => {
    const old = Date.now() - 30 * 24 * HOUR;
    const q = { queue: 'readq' };
    const bad = suite.env.acceptsBadJson;
    const finished = [
      await suite.env.put({ ...q, state: 'completed', finalizedAtMs: old, ...(bad && { args: '{{', errors: '][', metadata: '?' }) }),
      await suite.env.put({ ...q, state: 'discarded', finalizedAtMs: old, args: '"text"', errors: '{"x":1}' }),
    ];
    // Finished without a finalized_at: never old enough to prune, and no error either.
    const timeless = await suite.env.put({ ...q, state: 'completed', finalizedAtMs: null });
    const foreign = await suite.env.put({ ...q, state: 'weird', ...(bad && { args: 'not json at all' }) });
    const unknownKind = await suite.env.put({ ...q, kind: 'ghost', state: 'discarded', finalizedAtMs: old });

    const jobs = client();
    const listed = await listEnqueued(jobs, { queue: 'readq' });
    expect(listed.map((j) => j.id)).toEqual([...finished, timeless, foreign, unknownKind]);
    if (bad) {
      expect(listed[0]).toMatchObject({ args: '{{', errors: '][', metadata: '?' });
      expect(listed[3]).toMatchObject({ state: 'weird', args: 'not json at all' });
    }
    const counts = await jobs.backend.countJobs(jobs.adapter.autocommit());
    expect(counts.filter((c) => c.queue === 'readq')).toEqual(
      expect.arrayContaining([{ queue: 'readq', state: 'weird', count: 1 }, { queue: 'readq', state: 'completed', count: 2 }]),
    );

    const on = ['--url', suite.env.url, '--table', suite.env.table];
    const list = await cli(['list', '--json', '--args', '--queue', 'readq', ...on]);
    expect(list).toMatchObject({ code: 0, err: '' });
    expect((JSON.parse(list.out) as { jobs: { id: string }[] }).jobs.map((j) => j.id)).toEqual([...finished, timeless, foreign, unknownKind]);
    expect(await cli(['list', '--queue', 'readq', ...on])).toMatchObject({ code: 0, err: '' });
    expect(await cli(['status', ...on])).toMatchObject({ code: 0, err: '' });

    // Retention on: the worker prunes the old finished rows, corrupt or not, and nothing else.
    const logger = recordingLogger();
    const worker = jobs.createWorker({ queues: ['nothing_to_claim'], logger, retention: { completedMs: 7 * 24 * HOUR, discardedMs: 7 * 24 * HOUR } });
    expect(await worker.prune()).toBe(3);
    expect(logger.errors).toEqual([]);
    const left = (await suite.env.view.rows()).filter((r) => r.queue === 'readq').map((r) => r.id);
    expect(left).toEqual([timeless, foreign]);
  });
});
