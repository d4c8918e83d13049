/**
 * Concordia cases: drain, enqueue inside transactions, and enqueue→start latency, through the
 * raw adapters (pg, mysql2, better-sqlite3) and Knex.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { knexAdapter } from '../../adapters/knex/knex-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { prismaAdapter } from '../../adapters/prisma/prisma-adapter.ts';
import { openPrismaClient } from '../../spec/support/prisma-harness.ts';
import { createJobs, defineJob, type Adapter, type Executor, type Jobs, type WorkOptions } from '../../lib/index.ts';
import {
  jitter,
  jobsDdl,
  fromReturn,
  latencyResult,
  Meter,
  MYSQL_URL,
  percentile,
  PgWork,
  PG_URL,
  pgPool,
  rateResult,
  sqliteDir,
  waitDrained,
  type CaseResult,
  type CaseSpec,
} from '../lib/common.ts';

/** What a case needs from one adapter setup, whatever the driver. */
interface Setup {
  adapter: Adapter<unknown>;
  /** An executor on separate connections, for DDL and counting. */
  outside: Executor;
  /** Runs `fn` in a transaction of the driver, the way an application would. */
  inTransaction(fn: (tx: unknown) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

async function setup(spec: CaseSpec): Promise<Setup> {
  const adapterName = String(spec.opts['adapter']);
  const poolMax = Number(spec.opts['poolMax'] ?? 10);
  if (adapterName === 'pg') {
    const pool = pgPool(poolMax);
    const side = pgPool(2);
    return {
      adapter: pgAdapter(pool) as Adapter<unknown>,
      outside: pgAdapter(side).autocommit(),
      async inTransaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await fn(client);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      close: async () => {
        await pool.end();
        await side.end();
      },
    };
  }
  if (adapterName === 'knex') {
    const knex: Knex = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: poolMax } });
    const side = pgPool(2);
    return {
      adapter: knexAdapter(knex) as Adapter<unknown>,
      outside: pgAdapter(side).autocommit(),
      inTransaction: (fn) => knex.transaction(async (trx) => fn(trx)),
      close: async () => {
        await knex.destroy();
        await side.end();
      },
    };
  }
  if (adapterName === 'mysql2') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: poolMax });
    const side = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    return {
      adapter: mysql2Adapter(pool) as Adapter<unknown>,
      outside: mysql2Adapter(side).autocommit(),
      async inTransaction(fn) {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          await fn(conn);
          await conn.commit();
        } catch (error) {
          await conn.rollback().catch(() => {});
          throw error;
        } finally {
          conn.release();
        }
      },
      close: async () => {
        await pool.end();
        await side.end();
      },
    };
  }
  if (adapterName === 'prisma') {
    // Prisma 7 through @prisma/adapter-pg, with the client generated offline from our fragment
    // (the same helper the test suite uses), on the same PostgreSQL as the raw pg cases.
    const client = await openPrismaClient({ db: 'postgres', connections: poolMax, statementNames: spec.opts['statementNames'] !== false });
    const side = pgPool(2);
    const adapter = prismaAdapter(client);
    return {
      adapter: adapter as Adapter<unknown>,
      outside: pgAdapter(side).autocommit(),
      inTransaction: (fn) => client.$transaction(async (tx) => void (await fn(tx))),
      close: async () => {
        await client.$disconnect();
        await side.end();
      },
    };
  }
  if (adapterName === 'better-sqlite3') {
    const dir = sqliteDir(spec.tag);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'bench.db');
    // The documented setup: WAL and a busy timeout. synchronous stays at SQLite's default (FULL).
    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    const adapter = betterSqlite3Adapter(db);
    return {
      adapter: adapter as Adapter<unknown>,
      // One connection is all SQLite writes with anyway; counting shares it.
      outside: adapter.autocommit(),
      async inTransaction(fn) {
        db.exec('BEGIN IMMEDIATE');
        try {
          await fn(db);
          db.exec('COMMIT');
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      },
      close: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown adapter ${adapterName}`);
}

function dbOf(spec: CaseSpec): 'postgres' | 'mysql' | 'sqlite' {
  if (spec.db === 'redis' || spec.db === 'dynamodb' || spec.db === 'firestore') throw new Error(`concordia has no ${spec.db} dialect`);
  return spec.db;
}

async function createTable(s: Setup, spec: CaseSpec, table: string): Promise<void> {
  for (const stmt of jobsDdl(dbOf(spec), table)) await s.outside.execute(stmt, []);
}

async function dropTable(s: Setup, table: string): Promise<void> {
  await s.outside.execute(`DROP TABLE IF EXISTS ${table}`, []).catch(() => {});
}

async function countCompleted(s: Setup, table: string): Promise<number> {
  const rows = await s.outside.query(`SELECT COUNT(*) AS c FROM ${table} WHERE state = 'completed'`, []);
  return Number(rows[0]?.['c'] ?? 0);
}

/** Client options: `notify` (PostgreSQL NOTIFY on enqueue) only when the case sets it. */
function clientOptions(spec: CaseSpec): { notify?: boolean } {
  return spec.opts['notify'] === undefined ? {} : { notify: Boolean(spec.opts['notify']) };
}

function workOptions(spec: CaseSpec): WorkOptions {
  const o: WorkOptions = { logger: { warn: console.warn, error: console.error } };
  if (spec.opts['listen'] !== undefined) o.listen = Boolean(spec.opts['listen']);
  if (spec.opts['concurrency'] !== undefined) o.concurrency = Number(spec.opts['concurrency']);
  if (spec.opts['pollIntervalMs'] !== undefined) o.pollIntervalMs = Number(spec.opts['pollIntervalMs']);
  if (spec.opts['prefetch'] !== undefined) o.prefetch = Number(spec.opts['prefetch']);
  return o;
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const s = await setup(spec);
  try {
    await createTable(s, spec, table);
    if (spec.scenario === 'drain') return await drain(spec, s, table);
    if (spec.scenario === 'enqueue') return await enqueue(spec, s, table);
    return await latency(spec, s, table);
  } finally {
    await dropTable(s, table);
    await s.close();
  }
}

async function drain(spec: CaseSpec, s: Setup, table: string): Promise<CaseResult> {
  let handled = 0;
  const noop = defineJob('noop', {
    handler: (_args: { i: number }) => {
      handled++;
    },
  });
  const jobs = createJobs({ adapter: s.adapter, jobs: [noop], table, ...clientOptions(spec) });
  // Pre-insert outside the measured phase, 5,000 per transaction.
  for (let i = 0; i < spec.n; i += 5000) {
    const chunk = Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => noop({ i: i + k }));
    await jobs.enqueueManyAutocommit(chunk);
  }
  let completedEvents = 0;
  const work = spec.db === 'postgres' ? new PgWork() : undefined;
  await work?.start();
  const meter = new Meter();
  meter.start();
  const worker = jobs.createWorker(workOptions(spec));
  worker.on('job:completed', () => {
    completedEvents++;
  });
  await worker.start();
  const deadline = performance.now() + spec.capSeconds * 1000;
  // 'job:completed' fires after the completion UPDATE returned, so it already reflects the database.
  const done = await waitDrained(spec.n, () => completedEvents, () => countCompleted(s, table), deadline);
  const m = meter.stop();
  const cost = (await work?.stop(done)) ?? {};
  await worker.stop();
  return rateResult(spec.n, done, m, { handled, ...cost });
}

/**
 * Enqueue throughput. mode `single`: one job per transaction, `concurrency` transactions at
 * once; mode `batch`: `batch` jobs per transaction through enqueueMany.
 */
async function enqueue(spec: CaseSpec, s: Setup, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const jobs = createJobs({ adapter: s.adapter, jobs: [noop], table, ...clientOptions(spec) }) as Jobs<unknown>;
  const mode = String(spec.opts['mode']);
  const meter = new Meter();
  // Warm the pool and the statement path outside the measurement.
  await s.inTransaction((tx) => jobs.enqueue(tx, noop({ i: -1 })).then(() => {}));
  // WAL written per job (PostgreSQL): what each commit must flush, counting other sessions too.
  const walAt = async (): Promise<number | null> =>
    spec.db === 'postgres' ? Number((await s.outside.query("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS b", []))[0]?.['b']) : null;
  const wal0 = await walAt();
  meter.start();
  if (mode === 'batch') {
    const batch = Number(spec.opts['batch']);
    for (let i = 0; i < spec.n; i += batch) {
      const chunk = Array.from({ length: Math.min(batch, spec.n - i) }, (_, k) => noop({ i: i + k }));
      await s.inTransaction((tx) => jobs.enqueueMany(tx, chunk).then(() => {}));
    }
  } else {
    const lanes = Number(spec.opts['concurrency'] ?? 1);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < spec.n) {
        const i = next++;
        await s.inTransaction((tx) => jobs.enqueue(tx, noop({ i })).then(() => {}));
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  }
  const m = meter.stop();
  const wal1 = await walAt();
  const rows = await s.outside.query(`SELECT COUNT(*) AS c FROM ${table}`, []);
  const stored = Number(rows[0]?.['c'] ?? 0) - 1;
  if (stored !== spec.n) throw new Error(`enqueue: expected ${spec.n} rows, found ${stored}`);
  return rateResult(spec.n, stored, m, wal0 !== null && wal1 !== null ? { walBytesPerJob: (wal1 - wal0) / spec.n } : {});
}

/** Enqueue→start latency with an idle worker in the same process (one clock for both ends). */
async function latency(spec: CaseSpec, s: Setup, table: string): Promise<CaseResult> {
  const committedAt = new Map<number, number>();
  const returnedAt = new Map<number, number>();
  const startedAt = new Map<number, number>();
  const delays: number[] = [];
  const probe = defineJob('probe', {
    handler: (args: { i: number }) => {
      const now = performance.now();
      startedAt.set(args.i, now);
      const t = committedAt.get(args.i);
      if (t !== undefined) delays.push(now - t);
    },
  });
  // Where the time goes, per probe: when the worker's LISTEN connection got the NOTIFY, and the
  // claim that took the job (issued, returned). Both hooks sit below the worker, in the adapter
  // and the backend, and only record a clock reading.
  const notifiedAt: number[] = [];
  const listen = s.adapter.listen?.bind(s.adapter);
  if (listen) {
    s.adapter.listen = (channel, onNotification, onError) =>
      listen(channel, (payload) => {
        notifiedAt.push(performance.now());
        onNotification(payload);
      }, onError);
  }
  const claims = new Map<number, { issued: number; returned: number }>();
  const jobs = createJobs({ adapter: s.adapter, jobs: [probe], table, ...clientOptions(spec) }) as Jobs<unknown>;
  const backend = jobs.backend;
  const claim = backend.claim.bind(backend);
  backend.claim = async (db, p) => {
    const issued = performance.now();
    const got = await claim(db, p);
    const returned = performance.now();
    for (const j of got) {
      const args = (typeof j.args === 'string' ? JSON.parse(j.args) : j.args) as { i: number };
      claims.set(args.i, { issued, returned });
    }
    return got;
  };
  const worker = await jobs.work(workOptions(spec));
  const meter = new Meter();
  meter.start();
  const commits: number[] = [];
  for (let i = 0; i < spec.n; i++) {
    let issued = 0;
    await s.inTransaction(async (tx) => {
      await jobs.enqueue(tx, probe({ i }));
      // The clock starts as the application issues COMMIT (the next statement): a worker woken
      // by the commit may start the job before the COMMIT reply reaches this process.
      issued = performance.now();
      committedAt.set(i, issued);
    });
    // The COMMIT's own round trip: the part of the latency no worker can remove.
    const returned = performance.now();
    returnedAt.set(i, returned);
    commits.push(returned - issued);
    await jitter(5, 25);
  }
  const deadline = performance.now() + spec.capSeconds * 1000;
  while (delays.length < spec.n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const m = meter.stop();
  await worker.stop();
  const result = latencyResult(delays, m, spec.n, commits, fromReturn(startedAt, returnedAt));
  result.extra = { ...result.extra, ...latencyParts(committedAt, notifiedAt, claims, startedAt) };
  return result;
}

/**
 * The parts of each probe's latency, from COMMIT issued: to the NOTIFY reaching the worker's
 * LISTEN connection (`notify`), from there to the worker issuing its claim (`react`), the claim's
 * round trip (`claim`), and from its return to the handler starting (`dispatch`). p50 and p99 of
 * each, over the probes where every stamp is known (a probe found by a poll has no NOTIFY).
 */
function latencyParts(
  committedAt: ReadonlyMap<number, number>,
  notifiedAt: readonly number[],
  claims: ReadonlyMap<number, { issued: number; returned: number }>,
  startedAt: ReadonlyMap<number, number>,
): Record<string, number> {
  const parts: Record<'notify' | 'react' | 'claim' | 'dispatch', number[]> = { notify: [], react: [], claim: [], dispatch: [] };
  for (const [i, issued] of committedAt) {
    const c = claims.get(i);
    const started = startedAt.get(i);
    const notified = notifiedAt.find((t) => t >= issued);
    if (!c || started === undefined || notified === undefined || notified > c.issued) continue;
    parts.notify.push(notified - issued);
    parts.react.push(c.issued - notified);
    parts.claim.push(c.returned - c.issued);
    parts.dispatch.push(started - c.returned);
  }
  const out: Record<string, number> = { partsCounted: parts.notify.length };
  for (const [k, v] of Object.entries(parts)) {
    const sorted = [...v].sort((a, b) => a - b);
    out[`${k}P50`] = percentile(sorted, 50);
    out[`${k}P99`] = percentile(sorted, 99);
  }
  return out;
}
