/**
 * Ids at 2^53 and beyond, as a class: a JS number is exact only up to 2^53 − 1, and mysql2 and
 * better-sqlite3 return BIGINT columns as numbers by default. Every path that carries an id
 * (enqueue, unique enqueue, claim, heartbeat, complete, fail, rescue, cancel, retry, prune,
 * list, the testing helpers, the CLI) must keep it exact, up to the largest BIGINT. On
 * PostgreSQL, MariaDB and SQLite.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { InvalidOptionError } from '../../lib/errors.ts';
import { createJobs, defineJob, type JobContext, type Jobs, silentLogger } from '../../lib/index.ts';
import { drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import type { Adapter } from '../../lib/sql/executor.ts';
import { MYSQL_URL, PG_URL, type Db } from '../support/databases.ts';
import { cli, hostileSuite } from './corrupt-rows-env.ts';


const HOUR = 3_600_000;


/** `base + k` as decimal text, for k = 0 … n − 1. */
const after = (base: string, n: number): string[] => Array.from({ length: n }, (_, k) => (BigInt(base) + BigInt(k)).toString());

describe.each<[Db]>([['postgres'], ['mysql'], ['sqlite']])('ids at 2^53 and beyond: %s', (db) => {
  const suite = hostileSuite(db);
  const test = suite.test;

  const seen: string[] = [];
  const gate: { open?: () => void } = {};
  const work = defineJob('idjob', {
    maxAttempts: 2,
    handler: async (a: { mode: 'ok' | 'fail' | 'hold' }, ctx: JobContext) => {
      seen.push(ctx.id);
      if (a.mode === 'fail') throw new Error('fails');
      if (a.mode === 'hold' && ctx.attempt === 1) await new Promise<void>((resolve) => (gate.open = resolve));
    },
  });
  const client = (): Jobs<unknown> => createJobs({ adapter: suite.env.adapter, table: suite.env.table, jobs: [work] }) as Jobs<unknown>;
  const bump = (next: string): Promise<void> => suite.env.view.bumpIds(next);

  test('a batch across 2^53 gets distinct exact ids; unique enqueue, claim, fail, retry, complete, list and drain keep them', async () => {
    await bump('9007199254740990');
    const jobs = client();
    const ids = await jobs.enqueueManyAutocommit([work({ mode: 'ok' }), work({ mode: 'fail' }), work({ mode: 'ok' }), work({ mode: 'ok' })], { queue: 'across' });
    expect(ids).toEqual(after('9007199254740990', 4));
    const first = await jobs.enqueueUniqueAutocommit(work({ mode: 'ok' }), { queue: 'across', unique: { key: `across-${db}` } });
    const again = await jobs.enqueueUniqueAutocommit(work({ mode: 'ok' }), { queue: 'across', unique: { key: `across-${db}` } });
    expect(first).toEqual({ inserted: true, id: '9007199254740994' });
    expect(again).toEqual({ inserted: false, id: '9007199254740994' });
    const all = [...ids, first.id!];
    expect((await listEnqueued(jobs, { queue: 'across' })).map((j) => j.id)).toEqual(all);
    seen.length = 0;
    const drained = await drainQueue(jobs, { queues: ['across'], retryPolicy: { delayMs: () => 0 }, logger: silentLogger });
    const expectedRuns = [all[0], all[1], all[1], all[2], all[3], all[4]].sort();
    expect(drained.ran.map((r) => r.id).sort()).toEqual(expectedRuns);
    expect([...seen].sort()).toEqual(expectedRuns);
    expect((await listEnqueued(jobs, { queue: 'across' })).map((j) => [j.id, j.state, j.attempt])).toEqual([
      [all[0], 'completed', 1],
      [all[1], 'discarded', 2],
      [all[2], 'completed', 1],
      [all[3], 'completed', 1],
      [all[4], 'completed', 1],
    ]);
  });

  test('heartbeat, rescue and the fenced completion hold on ids past 2^53', async () => {
    // Odd: past 2^53 only even integers are JS numbers, so this id cannot survive as one.
    await bump('9007199254741101');
    const jobs = client();
    const id = await jobs.enqueueAutocommit(work({ mode: 'hold' }), { queue: 'fence' });
    expect(id).toBe('9007199254741101');
    // Worker A claims it and holds it; its heartbeat and rescue timers are far off.
    const a = jobs.createWorker({ queues: ['fence'], concurrency: 1, leaseMs: 600_000, heartbeatMs: 500_000, rescueIntervalMs: 500_000, logger: silentLogger });
    const startedA = a.next('job:started');
    await a.start();
    expect((await startedA).job.id).toBe(id);
    // The heartbeat statement, as A's timer would run it: it must find the row by its id.
    const [row] = (await suite.env.view.rows()).filter((r) => r.id === id);
    const db = { autocommit: suite.env.adapter.autocommit(), transaction: suite.env.adapter.transaction.bind(suite.env.adapter) };
    const held = await jobs.backend.extendLeases(db, [{ id, token: row!.leaseToken! }], 600_000, null);
    expect([...held]).toEqual([id]);
    // A's lease lapses; worker B rescues the job, claims it and completes it.
    await suite.env.view.expireLease(id);
    const b = jobs.createWorker({ queues: ['fence'], pollIntervalMs: 20, logger: silentLogger });
    const doneB = b.next('job:completed');
    const rescued = b.next('jobs:rescued');
    await b.start();
    expect((await rescued).count).toBe(1);
    expect((await doneB).job.id).toBe(id);
    // A's late result is fenced off.
    const lost = a.next('job:lease-lost');
    gate.open!();
    expect(await lost).toMatchObject({ during: 'complete', job: { id } });
    await Promise.all([a.stop(), b.stop()]);
    const [after2] = (await suite.env.view.rows()).filter((r) => r.id === id);
    expect(after2).toMatchObject({ state: 'completed', attempt: 2, lockedBy: b.id });
  });

  test("whatever the driver's number settings: integers as BigInt, as strings, or parsed into lossy numbers", async () => {
    // The settings applications use: better-sqlite3 safeIntegers, mysql2 bigNumberStrings,
    // and the popular node-postgres int8 → parseInt parser (lossy past 2^53).
    let adapter: Adapter<unknown>;
    let close: () => Promise<void>;
    if (db === 'sqlite') {
      const conn = new Database(suite.env.url, { timeout: 5000 });
      conn.defaultSafeIntegers(true);
      adapter = betterSqlite3Adapter(conn) as Adapter<unknown>;
      close = async () => void conn.close();
    } else if (db === 'mysql') {
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4, supportBigNumbers: true, bigNumberStrings: true });
      adapter = mysql2Adapter(pool) as Adapter<unknown>;
      close = () => pool.end();
    } else {
      const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? (v: string) => Number.parseInt(v, 10) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser;
      const pool = new pg.Pool({ connectionString: PG_URL, max: 4, types: { getTypeParser } });
      adapter = pgAdapter(pool) as Adapter<unknown>;
      close = () => pool.end();
    }
    try {
      await bump('9007199254742001');
      const jobs = createJobs({ adapter, table: suite.env.table, jobs: [work] }) as Jobs<unknown>;
      const ids = await jobs.enqueueManyAutocommit([work({ mode: 'ok' }), work({ mode: 'fail' }), work({ mode: 'ok' })], { queue: 'settings' });
      expect(ids).toEqual(after('9007199254742001', 3));
      const drained = await drainQueue(jobs, { queues: ['settings'], retryPolicy: { delayMs: () => 0 }, logger: silentLogger });
      // Runs are listed as they start; the retry may start before or after the third job.
      expect(drained.ran.map((r) => `${r.id} ${r.outcome}`).sort()).toEqual(
        [`${ids[0]} completed`, `${ids[1]} discarded`, `${ids[1]} retried`, `${ids[2]} completed`].sort(),
      );
      const listed = await listEnqueued(jobs, { queue: 'settings' });
      expect(listed.map((j) => [j.id, j.state, j.attempt, typeof j.priority, j.runAt instanceof Date && !Number.isNaN(j.runAt.getTime())])).toEqual([
        [ids[0], 'completed', 1, 'number', true],
        [ids[1], 'discarded', 2, 'number', true],
        [ids[2], 'completed', 1, 'number', true],
      ]);
      expect(await jobs.backend.countJobs(adapter.autocommit())).toEqual(expect.arrayContaining([{ queue: 'settings', state: 'completed', count: 2 }]));
    } finally {
      await close();
    }
  });

  test('cancel, retry, list and prune by id, from the client and the CLI, up to the largest BIGINT', async () => {
    // The last ids a BIGINT column can hand out.
    await bump('9223372036854775805');
    const jobs = client();
    const [x, y, z] = await jobs.enqueueManyAutocommit([work({ mode: 'ok' }), work({ mode: 'ok' }), work({ mode: 'ok' })], { queue: 'top' });
    expect([x, y, z]).toEqual(['9223372036854775805', '9223372036854775806', '9223372036854775807']);
    const on = ['--url', suite.env.url, '--table', suite.env.table];
    expect(await jobs.cancel(x!)).toBe(true);
    expect(await cli(['cancel', y!, ...on])).toMatchObject({ code: 0, out: `Cancelled job ${y}.\n` });
    expect(JSON.parse((await cli(['retry', x!, '--json', ...on])).out)).toEqual({ id: x, retried: true, state: 'available' });
    const listed = JSON.parse((await cli(['list', '--json', '--queue', 'top', ...on])).out) as { jobs: { id: string; state: string }[] };
    expect(listed.jobs.map((j) => [j.id, j.state])).toEqual([
      [x, 'available'],
      [y, 'cancelled'],
      [z, 'available'],
    ]);
    // Past the largest BIGINT: not an id, refused as such (it would fail on PostgreSQL and be
    // clamped onto the last job on MariaDB and SQLite).
    await expect(jobs.cancel('9223372036854775808')).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(jobs.cancel('99999999999999999999')).rejects.toBeInstanceOf(InvalidOptionError);
    // A number past 2^53 has already lost its last digits before it reaches us: refused, not rounded.
    await expect(jobs.cancel(2 ** 53 + 2)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(await cli(['cancel', '9223372036854775808', ...on])).toMatchObject({ code: 2 });
    expect(await cli(['retry', '99999999999999999999', ...on])).toMatchObject({ code: 2 });
    expect((await listEnqueued(jobs, { queue: 'top' })).map((j) => j.state)).toEqual(['available', 'cancelled', 'available']);

    await drainQueue(jobs, { queues: ['top'], logger: silentLogger });
    // Finished long ago, as far as retention can tell.
    const old = Date.now() - 30 * 24 * HOUR;
    const f = suite.env.db === 'mysql' ? new Date(old).toISOString().replace('T', ' ').replace('Z', '') : suite.env.db === 'postgres' ? new Date(old).toISOString() : old;
    await suite.env.raw.execute(`UPDATE ${suite.env.db === 'mysql' ? `\`${suite.env.table}\`` : `"${suite.env.table}"`} SET finalized_at = ${suite.env.db === 'postgres' ? '?::timestamptz' : '?'} WHERE queue = 'top'`, [f]);
    const pruner = jobs.createWorker({ queues: ['top'], retention: { completedMs: 7 * 24 * HOUR, cancelledMs: 7 * 24 * HOUR }, logger: silentLogger });
    expect(await pruner.prune()).toBe(3);
    expect(await listEnqueued(jobs, { queue: 'top' })).toEqual([]);
  });
});
