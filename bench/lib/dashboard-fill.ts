/**
 * Fills a jobs table with a long history for the dashboard-reads case: `finished` finished jobs
 * (completed, discarded, cancelled) spread over `spanDays` days, then a few thousand live ones
 * (available and running), written by the database itself (`INSERT … SELECT` over a generated
 * series) so a million rows take seconds, not a million round trips.
 *
 * Rows are a function of their number `g` only (no random()), so all three databases hold the
 * same jobs and a rerun the same table: a multiplicative hash of `g` modulo a prime picks the
 * state, queue and kind, and ids grow with time as they do in a real table (the newest id
 * finished last). Mix: 90 % completed, 7 % discarded, 3 % cancelled; queues default 50 %,
 * email 25 %, reports 15 %, webhooks 8 %, billing 2 %; kinds from send-email (40 %) down to
 * rebuild-search-index (1 in 10,000, the "rare kind" a support person searches for).
 */
import type { Executor } from '../../lib/index.ts';

export type FillDb = 'postgres' | 'mysql' | 'sqlite';

/** Every kind, the share of the history it has (of 100,000), and the kind a rare search looks for. */
export const KINDS: readonly (readonly [string, number])[] = [
  ['send-email', 40_000],
  ['sync-account', 25_000],
  ['render-report', 15_000],
  ['deliver-webhook', 10_000],
  ['resize-image', 6_000],
  ['charge-card', 3_000],
  ['export-csv', 990],
  ['rebuild-search-index', 10],
];
export const QUEUES: readonly (readonly [string, number])[] = [
  ['default', 50],
  ['email', 25],
  ['reports', 15],
  ['webhooks', 8],
  ['billing', 2],
];
export const COMMON_KIND = 'send-email';
export const RARE_KIND = 'rebuild-search-index';

/** A prime above any row number used here, so `g * m mod P` spreads the rows evenly. */
const P = 1_000_003;
/** Rows per INSERT: keeps each statement's transaction (and MariaDB's undo log) moderate. */
const CHUNK = 100_000;

/** How one database spells what the fill needs. */
interface Spelling {
  /** `INSERT INTO … (cols)` followed by a SELECT of the rows `from`..`to` as `g`. */
  insert(table: string, cols: string, select: (g: string) => string, from: number, to: number): string;
  /** A time column's value from epoch milliseconds (an integer expression). */
  time(ms: string): string;
  /** Integer division. */
  div(a: string, b: string): string;
  /** Text concatenation. */
  concat(...parts: string[]): string;
  /** A JSON column's value from JSON text. */
  json(text: string): string;
  /** An integer as text. */
  text(n: string): string;
}

const spellings: Record<FillDb, Spelling> = {
  postgres: {
    insert: (t, cols, select, from, to) => `INSERT INTO ${t} (${cols}) ${select('g')} FROM generate_series(${from}::bigint, ${to}::bigint) AS s(g)`,
    time: (ms) => `to_timestamp((${ms})::float8 / 1000)`,
    div: (a, b) => `((${a}) / (${b}))`,
    concat: (...p) => `(${p.join(' || ')})`,
    json: (text) => `(${text})::jsonb`,
    text: (n) => `(${n})::text`,
  },
  mysql: {
    // The Sequence engine's virtual tables (seq_1_to_N) are built into MariaDB. Times are
    // added to the epoch as plain arithmetic: FROM_UNIXTIME would follow the session time zone.
    insert: (t, cols, select, from, to) => `INSERT INTO ${t} (${cols}) ${select('s.seq')} FROM seq_${from}_to_${to} AS s`,
    time: (ms) => `TIMESTAMPADD(MICROSECOND, (${ms}) * 1000, '1970-01-01 00:00:00.000')`,
    div: (a, b) => `((${a}) DIV (${b}))`,
    concat: (...p) => `CONCAT(${p.join(', ')})`,
    json: (text) => text,
    text: (n) => `CAST(${n} AS CHAR)`,
  },
  sqlite: {
    insert: (t, cols, select, from, to) =>
      `INSERT INTO ${t} (${cols}) WITH RECURSIVE s(g) AS (SELECT ${from} UNION ALL SELECT g + 1 FROM s WHERE g < ${to}) ${select('g')} FROM s`,
    time: (ms) => `(${ms})`,
    div: (a, b) => `((${a}) / (${b}))`,
    concat: (...p) => `(${p.join(' || ')})`,
    json: (text) => text,
    text: (n) => `CAST(${n} AS TEXT)`,
  },
};

/** `CASE` picking a name by cumulative share of `h` (0 ≤ h < total). */
function pick(h: string, table: readonly (readonly [string, number])[]): string {
  let upTo = 0;
  const arms = table.slice(0, -1).map(([name, share]) => {
    upTo += share;
    return `WHEN ${h} < ${upTo} THEN '${name}'`;
  });
  return `CASE ${arms.join(' ')} ELSE '${table[table.length - 1]![0]}' END`;
}

const COLUMNS = 'queue, kind, args, state, priority, attempt, max_attempts, run_at, attempted_at, finalized_at, created_at, lease_token, locked_by, lease_expires_at, errors';

/**
 * Inserts the history and the live jobs; returns the seconds it took. `nowMs` is the clock the
 * history ends at (the newest job finished then).
 */
export async function fillHistory(ex: Executor, db: FillDb, table: string, opts: { finished: number; available: number; running: number; spanDays: number; nowMs: number }): Promise<number> {
  const started = performance.now();
  const s = spellings[db];
  const { finished: n, nowMs } = opts;
  const span = opts.spanDays * 86_400_000;
  const finishedSelect = (g: string): string => {
    const h = (m: number, mod: number) => `(((${g}) * ${m}) % ${P} % ${mod})`;
    const state = `CASE WHEN ${h(7919, 1000)} < 900 THEN 'completed' WHEN ${h(7919, 1000)} < 970 THEN 'discarded' ELSE 'cancelled' END`;
    // The newest row finished at nowMs, the oldest `span` before; each ran for up to 5 s after
    // waiting up to 2 s.
    const finalized = `(${nowMs} - ${s.div(`(${n} - (${g})) * ${span}`, String(n))})`;
    const attempted = `(${finalized} - 5 - ${h(48271, 5000)})`;
    const created = `(${attempted} - ${h(69621, 2000)})`;
    const discarded = `${h(7919, 1000)} >= 900 AND ${h(7919, 1000)} < 970`;
    const error = s.json(`'[{"at":"2026-01-01T00:00:00.000Z","attempt":3,"name":"Error","message":"upstream timed out after 30 s"}]'`);
    return (
      `SELECT ${pick(h(104729, 100), QUEUES)}, ${pick(h(15485863, 100_000), KINDS)}, ` +
      `${s.json(s.concat(`'{"i":'`, s.text(g), `',"account":'`, s.text(`(${g}) % 5000`), `'}'`))}, ${state}, 0, ` +
      `CASE WHEN ${discarded} THEN 3 ELSE 1 END, CASE WHEN ${discarded} THEN 3 ELSE 20 END, ` +
      `${s.time(created)}, ${s.time(attempted)}, ${s.time(finalized)}, ${s.time(created)}, NULL, ` +
      `${s.concat(`'host-'`, s.text(`(${g}) % 8`))}, NULL, CASE WHEN ${discarded} THEN ${error} ELSE NULL END`
    );
  };
  for (let from = 1; from <= n; from += CHUNK) {
    await ex.execute(s.insert(table, COLUMNS, finishedSelect, from, Math.min(n, from + CHUNK - 1)), []);
  }
  // Live jobs, newest of all: most due now, a tenth scheduled up to an hour ahead; then the
  // running ones, each holding a lease.
  const live = (g: string, running: boolean): string => {
    const due = running ? String(nowMs) : `(${nowMs} + CASE WHEN (${g}) % 10 = 0 THEN ((${g}) * 7919) % 3600000 ELSE 0 END)`;
    return (
      `SELECT ${pick(`((${g}) * 104729 % ${P} % 100)`, QUEUES)}, ${pick(`((${g}) * 15485863 % ${P} % 100000)`, KINDS)}, ` +
      `${s.json(s.concat(`'{"i":'`, s.text(g), `'}'`))}, '${running ? 'running' : 'available'}', 0, ${running ? 1 : 0}, 20, ` +
      `${s.time(due)}, ${running ? s.time(String(nowMs)) : 'NULL'}, NULL, ${s.time(String(nowMs))}, ` +
      `${running ? s.concat(`'lease-'`, s.text(g)) : 'NULL'}, ${running ? s.concat(`'host-'`, s.text(`(${g}) % 8`)) : 'NULL'}, ` +
      `${running ? s.time(String(nowMs + 30_000)) : 'NULL'}, NULL`
    );
  };
  if (opts.available > 0) await ex.execute(s.insert(table, COLUMNS, (g) => live(g, false), 1, opts.available), []);
  if (opts.running > 0) await ex.execute(s.insert(table, COLUMNS, (g) => live(g, true), 1, opts.running), []);
  return (performance.now() - started) / 1000;
}

/** Fresh statistics for the planner, as a table that has been sitting would have. */
export async function analyze(ex: Executor, db: FillDb, table: string): Promise<void> {
  // VACUUM also sets PostgreSQL's visibility map, which index-only scans need.
  if (db === 'postgres') await ex.execute(`VACUUM ANALYZE ${table}`, []);
  else if (db === 'mysql') await ex.query(`ANALYZE TABLE ${table}`, []);
  else await ex.execute('ANALYZE', []);
}
