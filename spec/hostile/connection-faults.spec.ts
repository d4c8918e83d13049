/**
 * Hostile suite, class "connection faults during handler, complete and fail", on PostgreSQL,
 * MariaDB and SQLite. Faults are real: either a connection the server ends
 * (pg_terminate_backend of our own backend), or an executor wrapper that lets the real
 * statement run and commit and then reports the connection lost, as a dropped acknowledgement
 * looks to the driver. Invariants: every job ends in a recorded state with the real outcome,
 * the worker keeps running other jobs, and nothing escapes as an unhandled rejection or an
 * uncaught exception.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, silentLogger, type Jobs, type Worker } from '../../lib/index.ts';
import type { Adapter, Executor } from '../../lib/sql/executor.ts';
import { isReachable, MYSQL_URL, PG_URL } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { rawDriverHarness } from '../support/harnesses.ts';
import { escapeTrap } from './escape-trap.ts';

/** What a driver reports when the connection dropped: the statement's fate is unknown to it. */
function connectionLost(): Error {
  return Object.assign(new Error('Connection terminated unexpectedly (injected after the statement ran)'), { code: 'ECONNRESET' });
}

/**
 * `adapter` with an autocommit executor that, once armed, runs the next statement matching
 * `pattern` for real and then throws as if the acknowledgement had been lost.
 */
function dropAckAfter(adapter: Adapter<unknown, Executor>, pattern: RegExp): { adapter: Adapter<unknown, Executor>; arm(): void; fired(): number } {
  const inner = adapter.autocommit();
  let armed = false;
  let fired = 0;
  const after = <T>(sql: string, result: T): T => {
    if (armed && pattern.test(sql)) {
      armed = false;
      fired++;
      throw connectionLost();
    }
    return result;
  };
  const ex: Executor = {
    dialect: inner.dialect,
    query: async (sql, params) => after(sql, await inner.query(sql, params)),
    execute: async (sql, params) => after(sql, await inner.execute(sql, params)),
    ...(inner.sync ? { sync: inner.sync } : {}),
  };
  const wrapped: Adapter<unknown, Executor> = Object.create(adapter) as Adapter<unknown, Executor>;
  Object.defineProperty(wrapped, 'autocommit', { value: () => ex });
  return { adapter: wrapped, arm: () => void (armed = true), fired: () => fired };
}

describe.each(['postgres', 'mysql', 'sqlite'] as const)('hostile: connection faults on %s', (db) => {
  let h: Harness | undefined;
  let available = true;
  const { escaped } = escapeTrap();
  const workers: Worker[] = [];

  beforeAll(async () => {
    available = await isReachable(db);
    if (available) h = await rawDriverHarness(db);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  it('a completion whose acknowledgement is lost after it committed is reported completed, not lease-lost', async (ctx) => {
    if (!available) return ctx.skip();
    const fault = dropAckAfter(h!.adapter as Adapter<unknown, Executor>, /SET state = 'completed'/);
    const quick = defineJob<{ n: number }>('fault_complete', { handler: async () => {} });
    const jobs = createJobs({ adapter: fault.adapter, table: h!.table, jobs: [quick] }) as Jobs<unknown>;
    const id = await jobs.enqueueAutocommit(quick({ n: 1 }), { queue: 'ack_complete' });
    const worker = jobs.createWorker({ queues: ['ack_complete'], pollIntervalMs: 20, logger: silentLogger });
    workers.push(worker);
    const outcome = new Promise<string>((resolve) => {
      worker.on('job:completed', () => resolve('completed'));
      worker.on('job:lease-lost', ({ during }) => resolve(`lease-lost during ${during}`));
    });
    fault.arm();
    await worker.start();
    expect(await outcome).toBe('completed');
    expect(fault.fired()).toBe(1);
    const row = (await h!.rows()).find((r) => r.id === id);
    expect(row?.state).toBe('completed');
    expect(escaped).toEqual([]);
  });

  it('a failure whose acknowledgement is lost after it committed is reported as recorded, not lease-lost', async (ctx) => {
    if (!available) return ctx.skip();
    const fault = dropAckAfter(h!.adapter as Adapter<unknown, Executor>, /SET state = 'discarded'/);
    const failing = defineJob<{ n: number }>('fault_fail', {
      maxAttempts: 1,
      handler: async () => {
        throw new Error('the real failure');
      },
    });
    const jobs = createJobs({ adapter: fault.adapter, table: h!.table, jobs: [failing] }) as Jobs<unknown>;
    const id = await jobs.enqueueAutocommit(failing({ n: 1 }), { queue: 'ack_fail' });
    const worker = jobs.createWorker({ queues: ['ack_fail'], pollIntervalMs: 20, logger: silentLogger });
    workers.push(worker);
    const outcome = new Promise<string>((resolve) => {
      worker.on('job:discarded', () => resolve('discarded'));
      worker.on('job:lease-lost', ({ during }) => resolve(`lease-lost during ${during}`));
    });
    fault.arm();
    await worker.start();
    expect(await outcome).toBe('discarded');
    const row = (await h!.rows()).find((r) => r.id === id);
    expect(row?.state).toBe('discarded');
    expect(row?.errors?.map((e) => e.message)).toEqual(['the real failure']);
    expect(escaped).toEqual([]);
  });

  it.skipIf(db !== 'mysql')('MariaDB: a transactional handler whose connection the server kills does not crash the worker; the failure is recorded', async (ctx) => {
    if (!available) return ctx.skip();
    const admin = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      const killed = defineJob<{ n: number }>('fault_tx_killed_my', {
        transactional: true,
        maxAttempts: 1,
        handler: async (_args, jobCtx) => {
          const tx = jobCtx.tx as mysql.PoolConnection;
          const [rows] = await tx.query('SELECT CONNECTION_ID() AS id');
          const id = Number((rows as { id: number }[])[0]!.id);
          const core = (tx as unknown as { connection: NodeJS.EventEmitter }).connection;
          const ended = new Promise<void>((resolve) => {
            core.once('end', () => resolve());
            core.once('error', () => resolve());
          });
          // Our own connection only.
          await admin.query(`KILL ${id}`);
          await ended;
        },
      });
      const after = defineJob<{ n: number }>('fault_tx_after_my', { handler: async () => {} });
      const jobs = createJobs({ adapter: h!.adapter, table: h!.table, jobs: [killed, after] }) as Jobs<unknown>;
      const killedId = await jobs.enqueueAutocommit(killed({ n: 1 }), { queue: 'tx_killed_my' });
      const worker = jobs.createWorker({ queues: ['tx_killed_my'], pollIntervalMs: 20, concurrency: 1, logger: silentLogger });
      workers.push(worker);
      const discarded = worker.next('job:discarded');
      await worker.start();
      await discarded;
      const completed = worker.next('job:completed');
      const afterId = await jobs.enqueueAutocommit(after({ n: 2 }), { queue: 'tx_killed_my' });
      await completed;
      const rows = new Map((await h!.rows()).map((r) => [r.id, r]));
      expect(rows.get(killedId)?.state).toBe('discarded');
      expect(rows.get(afterId)?.state).toBe('completed');
      expect(worker.state).toBe('running');
      expect(escaped).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it.skipIf(db !== 'postgres')('a transactional handler whose connection the server ends does not crash the worker; the failure is recorded', async (ctx) => {
    if (!available) return ctx.skip();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const killed = defineJob<{ n: number }>('fault_tx_killed', {
        transactional: true,
        maxAttempts: 1,
        handler: async (_args, jobCtx) => {
          const tx = jobCtx.tx as pg.PoolClient;
          const pid = Number((await tx.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
          const ended = new Promise<void>((resolve) => tx.once('end', () => resolve()));
          // Our own backend only: the shared server and others' connections are left alone.
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          await ended;
        },
      });
      const after = defineJob<{ n: number }>('fault_tx_after', { handler: async () => {} });
      const jobs = createJobs({ adapter: h!.adapter, table: h!.table, jobs: [killed, after] }) as Jobs<unknown>;
      const killedId = await jobs.enqueueAutocommit(killed({ n: 1 }), { queue: 'tx_killed' });
      const worker = jobs.createWorker({ queues: ['tx_killed'], pollIntervalMs: 20, concurrency: 1, logger: silentLogger });
      workers.push(worker);
      const discarded = worker.next('job:discarded');
      await worker.start();
      await discarded;
      // The worker is still alive and runs the next job on the same pool.
      const completed = worker.next('job:completed');
      const afterId = await jobs.enqueueAutocommit(after({ n: 2 }), { queue: 'tx_killed' });
      await completed;
      const rows = new Map((await h!.rows()).map((r) => [r.id, r]));
      expect(rows.get(killedId)?.state).toBe('discarded');
      // The server's own reason, not node-postgres's generic "not queryable" that follows it.
      expect(rows.get(killedId)?.errors?.[0]?.message).toMatch(/terminating connection/i);
      expect(rows.get(afterId)?.state).toBe('completed');
      expect(worker.state).toBe('running');
      expect(escaped).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
