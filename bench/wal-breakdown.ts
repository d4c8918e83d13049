/**
 * Where a PostgreSQL drain's write-ahead log goes, per job and per kind of WAL record: a probe for
 * reading the drain numbers, not a case of the suite. Each variant drains N no-op jobs (pre-
 * inserted, not counted) on a fresh table or schema, one step after another on one connection so
 * nothing else writes meanwhile, and reads the WAL it wrote through `pg_walinspect`:
 *
 * - Concordia: the engine's own claim (`dialect.claim`, 100 at a time), then its completion
 *   (`dialect.complete`), measured apart.
 * - The raw loop's claim, completed by an UPDATE to 'completed' or by a DELETE.
 * - graphile-worker's whole drain at its tuned settings (its claim and completion are not
 *   separable from outside).
 *
 * With WAL, the CPU the server spent per job: for the one-connection steps, that connection's
 * backend process (from /proc, so only for a server on this machine, at 10 ms resolution); for
 * graphile-worker, every `postgres` process. Unlike a rate, neither depends much on the load of
 * a shared machine.
 *
 * Use N of 20,000 or more: at 2,000 the split between the engine's claim and its completion moved
 * about a fifth of the claim's records into the completion's window (the claim commits with
 * synchronous_commit off; not understood), while their sum stayed the same.
 *
 * WAL is counted for the whole server, so run it on a quiet server. It needs the pg_walinspect
 * extension (shipped with PostgreSQL 15+) and creates it in a database of its own,
 * `bench_walinspect`, which it leaves in place.
 *
 *   node bench/wal-breakdown.ts [N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { Logger, makeWorkerUtils, run as runWorker, runMigrations } from 'graphile-worker';
import { pgAdapter } from '../adapters/pg/pg-adapter.ts';
import { createJobs, defineJob } from '../lib/index.ts';
import { jobsDdl, PG_URL } from './lib/common.ts';

const N = Number(process.argv[2] ?? 20_000);
const BATCH = 100;

const inspectUrl = new URL(PG_URL);
inspectUrl.pathname = '/bench_walinspect';

async function ensureInspect(admin: pg.Client): Promise<pg.Client> {
  const { rows } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'bench_walinspect'");
  if (rows.length === 0) await admin.query('CREATE DATABASE bench_walinspect');
  const c = new pg.Client({ connectionString: inspectUrl.toString() });
  await c.connect();
  await c.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  return c;
}

/** The flushed end of WAL, after a synchronous commit makes sure everything before it is flushed. */
async function flushedLsn(c: pg.Client): Promise<string> {
  await c.query('BEGIN');
  await c.query('SELECT txid_current()');
  await c.query('COMMIT');
  const { rows } = await c.query<{ l: string }>('SELECT pg_current_wal_flush_lsn()::text AS l');
  return rows[0]!.l;
}

interface Phase {
  name: string;
  bytesPerJob: number;
  byRecord: string;
  /** Server CPU µs per job, when measured. */
  cpuUsPerJob?: number;
}

/** CPU ticks (1/100 s) of the given processes, or of every `postgres` process when none is given. */
function ticks(pids?: readonly number[]): number {
  const list = pids ?? readdirPostgres();
  let t = 0;
  for (const pid of list) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]);
    } catch {
      // ended meanwhile
    }
  }
  return t;
}

function readdirPostgres(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') out.push(Number(d));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

async function backendPid(q: { query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> }): Promise<number> {
  const { rows } = await q.query('SELECT pg_backend_pid() AS p');
  return Number(rows[0]!['p']);
}

async function walBetween(inspect: pg.Client, name: string, from: string, to: string, jobs: number, cpuTicks?: number): Promise<Phase> {
  const { rows } = await inspect.query<{ rec: string; count: string; bytes: string; fpi: string }>(
    `SELECT "resource_manager/record_type" AS rec, count, combined_size AS bytes, fpi_size AS fpi FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) WHERE count > 0 ORDER BY combined_size DESC`,
    [from, to],
  );
  const total = rows.reduce((s, r) => s + Number(r.bytes), 0);
  const parts = rows
    .filter((r) => Number(r.bytes) / jobs >= 5)
    .map((r) => `${r.rec} ${(Number(r.count) / jobs).toFixed(2)}/job ${(Number(r.bytes) / jobs).toFixed(0)} B${Number(r.fpi) > 0 ? ` (FPI ${(Number(r.fpi) / jobs).toFixed(0)})` : ''}`);
  return { name, bytesPerJob: total / jobs, byRecord: parts.join('; '), ...(cpuTicks === undefined ? {} : { cpuUsPerJob: (cpuTicks * 10_000) / jobs }) };
}

async function indexes(c: pg.Client, table: string): Promise<string> {
  const { rows } = await c.query<{ name: string; size: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_size_pretty(pg_relation_size(indexrelid)) AS size FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`,
    [table],
  );
  return `${rows.length} indexes: ${rows.map((r) => `${r.name} ${r.size}`).join(', ')}`;
}

async function concordia(c: pg.Client, inspect: pg.Client, out: Phase[]): Promise<void> {
  const table = 'bench_walprobe_concordia';
  await c.query(`DROP TABLE IF EXISTS ${table}`);
  for (const stmt of jobsDdl('postgres', table)) await c.query(stmt);
  const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
  try {
    const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
    const jobs = createJobs({ adapter: pgAdapter(pool), jobs: [noop], table });
    const pid = [await backendPid(pool)];
    const i0 = await flushedLsn(c);
    const it0 = ticks(pid);
    for (let i = 0; i < N; i += 1000) await jobs.enqueueManyAutocommit(Array.from({ length: 1000 }, (_, k) => noop({ i: i + k })));
    const it1 = ticks(pid);
    const i1 = await flushedLsn(c);
    out.push(await walBetween(inspect, 'Concordia enqueueMany, 1,000 per statement', i0, i1, N, it1 - it0));
    const dialect = jobs.backend;
    const db = jobs.dispatcherDb();
    const claimed = [];
    const a = await flushedLsn(c);
    const t0 = ticks(pid);
    for (;;) {
      const got = await dialect.claim(db, { queues: ['default'], limit: BATCH, workerId: 'probe', leaseMs: 30_000, now: null });
      if (got.length === 0) break;
      claimed.push(got);
    }
    const t1 = ticks(pid);
    const b = await flushedLsn(c);
    const t2 = ticks(pid);
    for (const got of claimed) await dialect.complete(db, got.map((j) => ({ id: j.id, token: j.leaseToken })), null);
    const t3 = ticks(pid);
    const d = await flushedLsn(c);
    out.push(await walBetween(inspect, 'Concordia claim (dialect.claim, 100 per call)', a, b, N, t1 - t0));
    out.push(await walBetween(inspect, 'Concordia completion (dialect.complete, 100 per call)', b, d, N, t3 - t2));
    console.log(`Concordia table: ${await indexes(c, table)}`);
  } finally {
    await pool.end();
    await c.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

async function raw(c: pg.Client, inspect: pg.Client, out: Phase[]): Promise<void> {
  const table = 'bench_walprobe_raw';
  for (const finish of ['update', 'delete', 'update-by-id', 'delete-by-id'] as const) {
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    for (const stmt of jobsDdl('postgres', table)) await c.query(stmt);
    await c.query(
      `INSERT INTO ${table} (queue, kind, args, run_at, created_at) SELECT 'default', 'noop', jsonb_build_object('i', g), now(), now() FROM generate_series(1, $1) g`,
      [N],
    );
    const claim =
      `WITH picked AS MATERIALIZED (SELECT id FROM ${table} WHERE state = 'available' AND queue = 'default' AND run_at <= now() ` +
      `ORDER BY priority, run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) ` +
      `UPDATE ${table} t SET state = 'running', attempt = attempt + 1, attempted_at = now(), lease_token = gen_random_uuid()::text, ` +
      `locked_by = 'probe', lease_expires_at = now() + interval '30 seconds' FROM picked WHERE t.id = picked.id RETURNING t.id`;
    const complete =
      finish === 'delete'
        ? `DELETE FROM ${table} WHERE id = ANY($1::bigint[]) AND state = 'running'`
        : finish === 'delete-by-id'
        ? `DELETE FROM ${table} WHERE id = ANY($1::bigint[]) AND (state = 'running') IS TRUE`
        : finish === 'update-by-id'
        ? `UPDATE ${table} SET state = 'completed', finalized_at = now(), lease_expires_at = NULL WHERE id = ANY($1::bigint[]) AND (state = 'running') IS TRUE`
        : `UPDATE ${table} SET state = 'completed', finalized_at = now(), lease_expires_at = NULL WHERE id = ANY($1::bigint[]) AND state = 'running'`;
    const batches: string[][] = [];
    const pid = [await backendPid(c)];
    const a = await flushedLsn(c);
    const t0 = ticks(pid);
    for (;;) {
      const { rows } = await c.query<{ id: string }>(claim, [BATCH]);
      if (rows.length === 0) break;
      batches.push(rows.map((r) => r.id));
    }
    const t1 = ticks(pid);
    const b = await flushedLsn(c);
    const t2 = ticks(pid);
    for (const ids of batches) await c.query(complete, [ids]);
    const t3 = ticks(pid);
    const d = await flushedLsn(c);
    if (finish === 'update') out.push(await walBetween(inspect, 'raw loop claim', a, b, N, t1 - t0));
    out.push(await walBetween(inspect, `raw loop completion by ${finish.toUpperCase()}`, b, d, N, t3 - t2));
  }
  await c.query(`DROP TABLE IF EXISTS ${table}`);
}

async function graphile(c: pg.Client, inspect: pg.Client, out: Phase[]): Promise<void> {
  const schema = 'bench_walprobe_gw';
  const logger = new Logger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await runMigrations({ connectionString: PG_URL, schema, logger });
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger });
  for (let i = 0; i < N; i += 5000) await utils.addJobs(Array.from({ length: Math.min(5000, N - i) }, (_, k) => ({ identifier: 'noop', payload: { i: i + k } })));
  await utils.release();
  console.log(`graphile-worker jobs table: ${await indexes(c, `${schema}._private_jobs`)}`);
  let handled = 0;
  const a = await flushedLsn(c);
  const t0 = ticks();
  const runner = await runWorker({
    connectionString: PG_URL,
    schema,
    logger,
    noHandleSignals: true,
    concurrency: 24,
    maxPoolSize: 25,
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    taskList: { noop: async () => void handled++ },
  });
  for (;;) {
    const { rows } = await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${schema}._private_jobs`);
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const t1 = ticks();
  const d = await flushedLsn(c);
  await runner.stop();
  out.push(await walBetween(inspect, 'graphile-worker tuned, whole drain (claim + DELETE; CPU of every postgres process, counting polls)', a, d, N, t1 - t0));
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

const c = new pg.Client({ connectionString: PG_URL });
await c.connect();
const inspect = await ensureInspect(c);
try {
  const out: Phase[] = [];
  await concordia(c, inspect, out);
  await raw(c, inspect, out);
  await graphile(c, inspect, out);
  for (const p of out) {
    const cpu = p.cpuUsPerJob === undefined ? '' : `, server CPU ${p.cpuUsPerJob.toFixed(1)} µs/job`;
    console.log(`${p.name}: ${p.bytesPerJob.toFixed(0)} B WAL/job${cpu} — ${p.byRecord}`);
  }
} finally {
  await inspect.end();
  await c.end();
}
