/**
 * Dashboard reads next to a long history (issue #14): how fast the dashboard's read endpoints
 * answer on a table holding a million finished jobs, per database, through the real handler.
 *
 * Setup, not measured: a fresh table from every migration in schema/<database>/ (so whatever
 * indexes the repository's schema has, nothing added here), filled by bench/lib/dashboard-fill.ts
 * with `finished` finished jobs spread over a week plus 3,000 available and 200 running ones,
 * then ANALYZE (VACUUM ANALYZE on PostgreSQL), as a table that has been sitting would be.
 *
 * Measured: each endpoint a user hits, called as `createDashboard({ jobs })(new Request(…))`
 * with the body read to the end, `warmup` times untimed and then `samples` times one after
 * another (no other traffic): median and p95 of the wall time per request, HTTP layer included.
 * Then each endpoint is called once more with its statements recorded, and every recorded
 * statement of the list, count and detail endpoints (and the overview's slowest) is run again
 * under the database's EXPLAIN, boiled down to the index it uses (bench/lib/explain.ts). The
 * plans are printed and returned with the result.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { createDashboard } from '../../lib/dashboard/index.ts';
import { createJobs, type Adapter, type Executor } from '../../lib/index.ts';
import { analyze, fillHistory } from '../lib/dashboard-fill.ts';
import { DASHBOARD_ENDPOINTS } from '../lib/dashboard-endpoints.ts';
import { explain, recordingAdapter, type Recorded } from '../lib/explain.ts';
import { jobsDdl, median, MYSQL_URL, percentile, pgPool, silent, sqliteDir, type CaseResult, type CaseSpec } from '../lib/common.ts';

interface Setup {
  adapter: Adapter<unknown, Executor>;
  /** Setup, EXPLAIN and clean-up, outside the measured pool. */
  side: Executor;
  close(): Promise<void>;
}

async function open(spec: CaseSpec): Promise<Setup> {
  if (spec.db === 'postgres') {
    const pool = pgPool(10);
    const side = pgPool(2);
    return { adapter: pgAdapter(pool) as Adapter<unknown, Executor>, side: pgAdapter(side).autocommit(), close: async () => void (await Promise.all([pool.end(), side.end()])) };
  }
  if (spec.db === 'mysql') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    const side = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
    return { adapter: mysql2Adapter(pool) as Adapter<unknown, Executor>, side: mysql2Adapter(side).autocommit(), close: async () => void (await Promise.all([pool.end(), side.end()])) };
  }
  if (spec.db === 'sqlite') {
    const dir = sqliteDir(spec.tag);
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, 'bench.db'), { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    const adapter = betterSqlite3Adapter(db);
    return {
      adapter: adapter as Adapter<unknown, Executor>,
      side: adapter.autocommit(),
      close: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`dashboard-reads: no ${spec.db} setup`);
}

/** What an overview statement is for, from its text (the overview runs several). */
function statementName(sql: string): string {
  if (sql.includes('finalized_at >=')) return 'throughput';
  if (sql.includes("IN ('available', 'running', 'paused')")) return 'live counts';
  if (sql.includes('MIN(queue)')) return 'finished counts, next queue';
  if (sql.includes('EXPLAIN')) return 'finished counts, estimate';
  if (sql.includes('GROUP BY queue')) return 'finished counts';
  if (sql.includes('LIMIT') && sql.includes('AS x')) return 'finished counts, one queue';
  if (sql.includes("state = 'running'")) return 'running jobs';
  if (sql.includes("'paused'")) return 'paused queues';
  return sql.slice(0, 40);
}

/** Time per kind of statement, largest first: "throughput 95.1 ms, finished counts ×45 9.0 ms". */
function breakdown(log: readonly Recorded[]): string {
  const by = new Map<string, { ms: number; n: number }>();
  for (const r of log) {
    const name = statementName(r.sql);
    const x = by.get(name) ?? { ms: 0, n: 0 };
    by.set(name, { ms: x.ms + r.ms, n: x.n + 1 });
  }
  return [...by]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, x]) => `${name}${x.n > 1 ? ` ×${x.n}` : ''} ${x.ms.toFixed(1)} ms`)
    .join(', ');
}

/** Formats a row count the way the labels do. */
const count = (x: number): string => x.toLocaleString('en-US');

export async function run(spec: CaseSpec): Promise<CaseResult> {
  if (spec.db === 'redis' || spec.db === 'dynamodb' || spec.db === 'firestore') throw new Error('dashboard-reads: SQL databases only');
  const db = spec.db;
  const table = `bench_${spec.tag}`;
  const finished = spec.n;
  const samples = Number(spec.opts['samples'] ?? 20);
  const warmup = Number(spec.opts['warmup'] ?? 3);
  const s = await open(spec);
  try {
    for (const stmt of jobsDdl(db, table)) await s.side.execute(stmt, []);
    const fillSeconds = await fillHistory(s.side, db, table, { finished, available: 3000, running: 200, spanDays: 7, nowMs: Date.now() });
    const analyzeStarted = performance.now();
    await analyze(s.side, db, table);
    const analyzeSeconds = (performance.now() - analyzeStarted) / 1000;
    const [total] = await s.side.query(`SELECT COUNT(*) AS n FROM ${table}`, []);
    const rows = Number(total?.['n']);
    if (rows !== finished + 3200) throw new Error(`dashboard-reads: the fill wrote ${rows} rows, expected ${finished + 3200}`);
    console.log(`  dashboard-reads ${db}: ${count(rows)} rows filled in ${fillSeconds.toFixed(1)} s, analyzed in ${analyzeSeconds.toFixed(1)} s`);

    const log: Recorded[] = [];
    let recording = false;
    const jobs = createJobs({ adapter: recordingAdapter(s.adapter, log, () => recording), jobs: [], table });
    const dashboard = createDashboard({ jobs, authorize: () => 'bench', logger: silent });
    const get = async (path: string, fresh = false): Promise<{ ms: number; body: unknown }> => {
      const handler = fresh ? createDashboard({ jobs, authorize: () => 'bench', logger: silent }) : dashboard;
      const t = performance.now();
      const res = await handler(new Request(`http://bench.local/${path}`));
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`dashboard-reads: GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return { ms, body: JSON.parse(text) as unknown };
    };

    // What later requests are built from: the first page's `next` and an id from the middle of the history.
    const first = (await get('api/jobs?state=discarded')).body as { jobs: { id: string }[]; next: string | null };
    if (first.next === null) throw new Error('dashboard-reads: the discarded list has no second page');
    const [mid] = await s.side.query(`SELECT MIN(id) AS id FROM ${table} WHERE id >= ${Math.floor(finished / 2)}`, []);
    const ctx = { next: first.next, someId: String(mid?.['id']) };

    const extra: Record<string, number> = { finished, rows, fillSeconds, analyzeSeconds, samples };
    const plans: Record<string, string> = {};
    for (const e of DASHBOARD_ENDPOINTS) {
      const path = e.path(ctx);
      for (let i = 0; i < warmup; i++) await get(path, e.fresh);
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) ms.push((await get(path, e.fresh)).ms);
      ms.sort((a, b) => a - b);
      extra[`${e.key}P50`] = median(ms);
      extra[`${e.key}P95`] = percentile(ms, 95);
      // Once more with its statements recorded, then explained.
      log.length = 0;
      recording = true;
      const body = (await get(path, e.fresh)).body as { jobs?: unknown[]; count?: number };
      recording = false;
      if (Array.isArray(body.jobs)) extra[`${e.key}Rows`] = body.jobs.length;
      if (typeof body.count === 'number') extra[`${e.key}Rows`] = body.count;
      if (!e.explainAll) {
        // The overview's reads run at once (and SQLite's synchronous driver runs them in turn
        // inside that), so a statement's time in the request includes waiting for the others:
        // each is timed again alone, for the breakdown and to pick the slowest.
        const ex = s.adapter.autocommit();
        for (const r of log) {
          const t = performance.now();
          await ex.query(r.sql, r.params);
          r.ms = performance.now() - t;
        }
      }
      const chosen = e.explainAll ? log : [...log].sort((a, b) => b.ms - a.ms).slice(0, 1);
      const lines: string[] = [];
      for (const r of chosen) lines.push(`${e.explainAll ? '' : `${statementName(r.sql)}: `}${await explain(s.side, db, r, table)}`);
      plans[e.key] = lines.join(' | ');
      if (!e.explainAll) plans[`${e.key}Statements`] = breakdown(log);
      extra[`${e.key}Statements`] = log.length;
      extra[`${e.key}SlowestMs`] = Math.max(...log.map((r) => r.ms));
      console.log(`  ${db} ${e.key.padEnd(16)} p50 ${extra[`${e.key}P50`]!.toFixed(1)} ms, p95 ${extra[`${e.key}P95`]!.toFixed(1)} ms, ${log.length} statement(s); ${plans[e.key]}${e.explainAll ? '' : ` [${plans[`${e.key}Statements`]}]`}`);
    }
    return { n: rows, seconds: 0, value: extra['listP50']!, unit: 'ms', cpuMsPer1k: Number.NaN, partial: false, extra, plans };
  } finally {
    await s.side.execute(`DROP TABLE IF EXISTS ${table}`, []).catch(() => {});
    await s.close();
  }
}
