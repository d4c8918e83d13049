/**
 * Query plans for the dashboard-reads case, each boiled down to one line a reader can scan: which
 * index (or full scan) reads the table, and whatever else costs (a sort, a temporary table).
 *
 * - PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`: the scan nodes with their index and
 *   the rows each returned, Sort nodes, and the buffers and time of the whole statement.
 * - MariaDB: `EXPLAIN`: each table access with its access type, key and row estimate, and the
 *   Extra column's filesort and temporary markers.
 * - SQLite: `EXPLAIN QUERY PLAN`: the detail of every SCAN, SEARCH and temp B-tree step.
 *
 * The statements are the ones the handler ran, with their parameters, captured by a
 * {@link recordingAdapter}: what is explained is exactly what was timed.
 */
import type { Adapter, Executor, SqlParam } from '../../lib/index.ts';

/** One statement the dashboard ran, how long it took, with its parameters. */
export interface Recorded {
  sql: string;
  params: readonly SqlParam[];
  ms: number;
}

/**
 * `adapter` with every statement of its autocommit executor appended to `log` while `on()` is
 * true (the dashboard reads through `autocommit()`; the rest is passed through untouched).
 */
export function recordingAdapter<T>(adapter: Adapter<T, Executor>, log: Recorded[], on: () => boolean): Adapter<T, Executor> {
  const wrap = (ex: Executor): Executor => {
    const timed = async <R>(sql: string, params: readonly SqlParam[], run: () => Promise<R>): Promise<R> => {
      if (!on()) return run();
      const t = performance.now();
      try {
        return await run();
      } finally {
        log.push({ sql, params: [...params], ms: performance.now() - t });
      }
    };
    return Object.assign(Object.create(ex) as Executor, {
      query: (sql: string, params: readonly SqlParam[]) => timed(sql, params, () => ex.query(sql, params)),
      execute: (sql: string, params: readonly SqlParam[]) => timed(sql, params, () => ex.execute(sql, params)),
    });
  };
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === 'autocommit') return () => wrap(target.autocommit());
      const value = Reflect.get(target, prop, target) as unknown;
      // Bound to the real adapter, whose private fields a proxy receiver would not have.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Sort Method'?: string;
  'Parent Relationship'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PgNode[];
}

function pgSummary(plan: { Plan: PgNode; 'Execution Time'?: number }): string {
  const steps: string[] = [];
  const walk = (node: PgNode): void => {
    const type = node['Node Type'];
    const rows = (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1);
    // The inner side of a join on the primary key fetches rows already found by id.
    const byId = node['Parent Relationship'] === 'Inner' && (node['Index Name'] ?? '').endsWith('_pkey');
    if (node['Index Name']) steps.push(`${type} on ${node['Index Name']} (${rows} rows${byId ? ', by id' : ''})`);
    else if (type === 'Seq Scan') steps.push(`Seq Scan on ${node['Relation Name'] ?? '?'} (${rows} rows)`);
    else if (type === 'Sort' || type === 'Incremental Sort') steps.push(`${type}${node['Sort Method'] ? ` (${node['Sort Method']})` : ''}`);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan.Plan);
  const summary = collapse(steps);
  const hit = plan.Plan['Shared Hit Blocks'] ?? 0;
  const read = plan.Plan['Shared Read Blocks'] ?? 0;
  return `${summary} — buffers hit ${hit} read ${read}, ${(plan['Execution Time'] ?? Number.NaN).toFixed(1)} ms`;
}

/** Identical steps once each, in first-seen order, with how many times they occur. */
function collapse(steps: readonly string[]): string {
  const seen = new Map<string, number>();
  for (const step of steps) seen.set(step, (seen.get(step) ?? 0) + 1);
  return [...seen].map(([step, n]) => (n > 1 ? `${step} ×${n}` : step)).join('; ');
}

/**
 * The plan of one statement as one line, from the database's own EXPLAIN, with the bench
 * table's name written as `concordia_jobs`, as the schema's migrations name it and its indexes.
 */
export async function explain(ex: Executor, db: 'postgres' | 'mysql' | 'sqlite', r: Recorded, table: string): Promise<string> {
  return (await rawExplain(ex, db, r)).split(table).join('concordia_jobs');
}

async function rawExplain(ex: Executor, db: 'postgres' | 'mysql' | 'sqlite', r: Recorded): Promise<string> {
  if (db === 'postgres') {
    const rows = await ex.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${r.sql}`, r.params);
    let plan: unknown = rows[0] === undefined ? undefined : Object.values(rows[0])[0];
    if (typeof plan === 'string') plan = JSON.parse(plan) as unknown;
    return pgSummary((plan as [{ Plan: PgNode; 'Execution Time'?: number }])[0]);
  }
  if (db === 'mysql') {
    const rows = await ex.query(`EXPLAIN ${r.sql}`, r.params);
    // A statement answered from the index statistics alone reads no table: say so.
    if (rows.every((row) => row['table'] === null)) return String(rows[0]?.['Extra'] ?? '');
    return collapse(
      rows
        // Derived tables (<derivedN>) are the statement's own subqueries, not reads of the table.
        .filter((row) => row['table'] !== null && !String(row['table']).startsWith('<'))
        .map((row) => {
          const extra = String(row['Extra'] ?? '');
          const marks = ['Using filesort', 'Using temporary', 'Using index'].filter((m) => extra.includes(m));
          const key = row['key'] === null || row['key'] === undefined ? 'no index' : String(row['key']);
          return `${String(row['type'])} ${key} (~${String(row['rows'])} rows${marks.length ? `, ${marks.join(', ')}` : ''})`;
        }),
    );
  }
  const rows = await ex.query(`EXPLAIN QUERY PLAN ${r.sql}`, r.params);
  // Only the steps that read the jobs table (aliased j, or unaliased) or sort; scans of the
  // statement's own subquery results are left out.
  return collapse(rows.map((row) => String(row['detail'])).filter((d) => /^(SCAN|SEARCH) (j|bench_\w+)\b|TEMP B-TREE/.test(d)));
}

/**
 * What a one-line plan reads the table with, for a table cell: the index names (without the
 * table's prefix), "primary key", a full scan, and "+ sort" when rows are sorted after reading.
 */
export function accessPath(summary: string): string {
  // The page's rows fetched back by id (PostgreSQL's inner index scan, SQLite's rowid=?,
  // MariaDB's eq_ref) are the same in every list and say nothing about how the page was found:
  // left out when there is more.
  const steps = summary.replace(/ — buffers.*$/, '').split('; ');
  const finding = steps.filter((step) => !/\(rowid=\?\)|^eq_ref |, by id\)/.test(step));
  if (finding.length > 0 && finding.length < steps.length) summary = finding.join('; ');
  const names = new Set<string>();
  for (const m of summary.matchAll(/concordia_jobs_(\w+)/g)) names.add(m[1] === 'pkey' ? 'primary key' : m[1]!);
  if (/INTEGER PRIMARY KEY|\bPRIMARY\b|SCAN j(?! USING)/.test(summary)) names.add('primary key');
  if (/Seq Scan on|\bALL no index|SCAN concordia_jobs(?! USING)/.test(summary)) names.add('full table scan');
  const sorted = /\bSort\b|filesort|TEMP B-TREE FOR ORDER BY|TEMP B-TREE FOR GROUP BY/.test(summary);
  return `${[...names].join(', ') || '–'}${sorted ? ' + sort' : ''}`;
}
