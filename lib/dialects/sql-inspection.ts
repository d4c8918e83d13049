/**
 * The dashboard's statements on the SQL databases: job lists, counts, detail, throughput and
 * operator actions (the contract is in inspection.ts). Written once; the few expressions in
 * which PostgreSQL, MariaDB and SQLite differ (JSON paths, bucket arithmetic, estimates) are
 * in {@link InspectionFlavor}.
 *
 * Index use: of the `(state, id)`, `(kind, id)` and `(finalized_at)` indexes these statements
 * suit, only `(state, id)` ships (migration 0003, in place of the lease index): all three cost
 * drains and enqueues 10–20 % on PostgreSQL and MariaDB (docs/design/dashboard.md). A page is an
 * id-only walk of the filter's states below the cursor, newest first (`(state, id)`, or the
 * primary key for every state): at most `limit` ids when the filter has nothing else, otherwise
 * at most `scanLimit` ids, which the page then filters by kind, queue, created range and JSON
 * paths (no index serves any of them in id order). The walk is a LIMITed inner select and the
 * filter sits outside it, so the database stops after `scanLimit` rows however rare the match.
 * Several states are scanned one state at a time and merged, so each branch walks `(state, id)`
 * in order instead of sorting a whole state. Throughput reads its time range from the table (no
 * `finalized_at` index): the dashboard fetches it apart from the overview and caches it.
 *
 * @internal
 */
import { StateError } from '../errors.ts';
import type { JobState } from '../job.ts';
import type { DialectName, Executor, SqlParam, SqlRow } from '../sql/executor.ts';
import type { DispatcherDb } from './dialect.ts';
import {
  ACTION_STATES,
  BULK_BATCH,
  DEFAULT_SCAN,
  FINAL_STATES,
  JOB_STATES,
  MAX_BULK,
  MAX_PAGE,
  checkAction,
  checkFilter,
  checkId,
  checkInt,
  checkSearch,
  checkTarget,
  checkThroughput,
  fillBuckets,
  normaliseErrors,
  type CheckedFilter,
  type CheckedPathMatch,
  type JobAction,
  type JobDetail,
  type JobFilter,
  type JobPage,
  type JobSummary,
  type JobTarget,
  type MatchCount,
  type OverviewCount,
  type OverviewOptions,
  type RunningJob,
  type SearchJobsParams,
  type ThroughputBucket,
  type ThroughputParams,
} from '../backend/inspection.ts';
import type { SqlBuilder, SqlFlavor } from './sql-dialect.ts';

/** Where the three SQL databases differ for these statements. */
interface InspectionFlavor {
  /** A bound job id compared with the BIGINT id column, exactly (no detour through a double). */
  id(b: SqlBuilder, id: string): string;
  /** The condition "`col` at this path holds this JSON value", every user value bound. */
  jsonMatch(b: SqlBuilder, col: string, m: CheckedPathMatch): string;
  /** The message of the last entry of an `errors` column, or NULL. */
  lastError(col: string): string;
  /** The bucket number of a time column: epoch ms divided by `ms` (a checked integer, inlined), rounded down. */
  bucket(f: SqlFlavor, col: string, ms: number): string;
  /** The planner's row estimate for a statement; absent where it has none worth using (SQLite). */
  estimate?(ex: Executor, sql: string, params: SqlParam[]): Promise<number | null>;
}

/** A MariaDB or SQLite JSON path text for the segments (keys are quoted; they cannot contain quotes). */
function pathText(segments: CheckedPathMatch['segments']): string {
  return `$${segments.map((s) => ('key' in s ? `."${s.key}"` : `[${s.index}]`)).join('')}`;
}

const flavors: Record<Exclude<DialectName, 'memory'>, InspectionFlavor> = {
  postgres: {
    id: (b, id) => `${b.p(id)}::bigint`,
    jsonMatch(b, col, m) {
      const at = (n: number) => (n === 0 ? col : `jsonb_extract_path(${col}, ${m.segments.slice(0, n).map((s) => `${b.p('key' in s ? s.key : String(s.index))}::text`).join(', ')})`);
      // jsonb_extract_path reads a digit segment as an object key too; MariaDB and SQLite do
      // not, so an index segment also requires an array, to match the same jobs everywhere.
      const guards = m.segments.flatMap((s, n) => ('index' in s ? [`jsonb_typeof(${at(n)}) = 'array'`] : []));
      return [...guards, `${at(m.segments.length)} = ${b.p(JSON.stringify(m.value))}::jsonb`].join(' AND ');
    },
    lastError: (col) => `(${col} -> -1 ->> 'message')`,
    bucket: (f, col, ms) => `floor(${f.timeMs(col)} / ${ms})`,
    async estimate(ex, sql, params) {
      const rows = await ex.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      let plan: unknown = rows[0] === undefined ? undefined : Object.values(rows[0])[0];
      if (typeof plan === 'string') plan = JSON.parse(plan) as unknown;
      const n = Number((plan as { Plan?: { 'Plan Rows'?: unknown } }[] | undefined)?.[0]?.Plan?.['Plan Rows']);
      return Number.isFinite(n) ? n : null;
    },
  },
  mysql: {
    // MariaDB compares a BIGINT column with a decimal string exactly (checked past 2^53 on 10.11).
    id: (b, id) => b.p(id),
    jsonMatch(b, col, m) {
      const at = (n: number) => (n === 0 ? col : `JSON_EXTRACT(${col}, ${b.p(pathText(m.segments.slice(0, n)))})`);
      // MariaDB reads `[0]` of a non-array as the value itself: an index needs an array above it.
      const guards = m.segments.flatMap((s, n) => ('index' in s ? [`JSON_TYPE(${at(n)}) = 'ARRAY'`] : []));
      const v = m.value;
      const typed =
        v === null
          ? `JSON_TYPE(${at(m.segments.length)}) = 'NULL'`
          : typeof v === 'boolean'
            ? `JSON_TYPE(${at(m.segments.length)}) = 'BOOLEAN' AND ${at(m.segments.length)} = '${v ? 'true' : 'false'}'`
            : typeof v === 'number'
              ? `JSON_TYPE(${at(m.segments.length)}) IN ('INTEGER', 'DOUBLE') AND CAST(${at(m.segments.length)} AS DOUBLE) = ${b.p(v)}`
              : // Compared as utf8mb4_bin, like the table: case and accents count.
                `JSON_TYPE(${at(m.segments.length)}) = 'STRING' AND JSON_UNQUOTE(${at(m.segments.length)}) = CONVERT(${b.p(v)} USING utf8mb4) COLLATE utf8mb4_bin`;
      return [...guards, typed].join(' AND ');
    },
    lastError: (col) => `JSON_UNQUOTE(JSON_EXTRACT(${col}, CONCAT('$[', JSON_LENGTH(${col}) - 1, '].message')))`,
    bucket: (f, col, ms) => `(${f.timeMs(col)} DIV ${ms})`,
    async estimate(ex, sql, params) {
      const rows = await ex.query(`EXPLAIN ${sql}`, params);
      const n = Number(rows[0]?.['rows']);
      return Number.isFinite(n) ? n : null;
    },
  },
  sqlite: {
    id: (b, id) => b.p(id),
    jsonMatch(b, col, m) {
      // json_type() raises on text that is not JSON (a row written behind our back): such a
      // column matches nothing instead of failing the whole page. SQLite reads no path through
      // a non-array index or a non-object key, so no guards are needed.
      const type = `CASE WHEN json_valid(${col}) THEN json_type(${col}, ${b.p(pathText(m.segments))}) END`;
      const v = m.value;
      if (v === null) return `${type} = 'null'`;
      if (typeof v === 'boolean') return `${type} = '${v ? 'true' : 'false'}'`;
      const value = `CASE WHEN json_valid(${col}) THEN json_extract(${col}, ${b.p(pathText(m.segments))}) END`;
      return typeof v === 'number' ? `${type} IN ('integer', 'real') AND ${value} = ${b.p(v)}` : `${type} = 'text' AND ${value} = ${b.p(v)}`;
    },
    lastError: (col) => `CASE WHEN json_valid(${col}) THEN json_extract(${col}, '$[#-1].message') END`,
    bucket: (_f, col, ms) => `(${col} / ${ms})`,
    // No estimate: SQLite keeps per-value statistics only after ANALYZE (with STAT4), so its
    // finished groups are counted exactly (about 60–90 ms per million rows of the claim index).
  },
};

function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function num(v: unknown): number {
  return Number(v);
}

/** A time selected as epoch ms (a number, or numeric text from some drivers), or null. */
function time(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  return new Date(Number(v));
}

/** Sorts numeric id strings newest first without losing precision past 2^53. */
function newestFirst(a: string, b: string): number {
  return b.length - a.length || (a < b ? 1 : a > b ? -1 : 0);
}

/** Most queues a large finished state is walked for (one index probe each). */
const MAX_QUEUES_WALKED = 1_000;
/** Longest `lastError` handed out. */
const LAST_ERROR_CHARS = 1_024;

/** A scanned page: what matched, and how far the scan went. */
interface RawPage {
  rows: SqlRow[];
  next: string | null;
}

/** The dashboard's statements for one jobs table on one SQL database. */
export class SqlInspection {
  readonly #f: SqlFlavor;
  readonly #x: InspectionFlavor;
  readonly #t: string;
  readonly #builder: () => SqlBuilder;
  readonly #keyOn: (state: JobState) => string;
  readonly #seekIndex: ((ex: Executor, again?: boolean) => Promise<string | null>) | null;

  /**
   * @param t the quoted table name
   * @param builder a fresh parameter builder
   * @param keyOn the assignment that drops a job's unique key when it enters a state its key does not cover
   * @param seekIndex where the optimizer needs telling (MariaDB): the quoted name of the table's
   *   `(state, id)` index, or null when it has none (`again`: look again, the name failed); each
   *   one-state walk then names it in a hint
   */
  constructor(flavor: SqlFlavor, t: string, builder: () => SqlBuilder, keyOn: (state: JobState) => string, seekIndex: ((ex: Executor, again?: boolean) => Promise<string | null>) | null = null) {
    this.#f = flavor;
    this.#x = flavors[flavor.name];
    this.#t = t;
    this.#builder = builder;
    this.#keyOn = keyOn;
    this.#seekIndex = seekIndex;
  }

  /** The select list of a {@link JobSummary}, on the table aliased `j`. */
  #summaryColumns(): string {
    const f = this.#f;
    return [
      `${f.idText('j.id')} AS id`,
      'j.queue',
      'j.kind',
      'j.state',
      'j.priority',
      'j.attempt',
      'j.max_attempts',
      `${f.timeMs('j.run_at')} AS run_at_ms`,
      `${f.timeMs('j.created_at')} AS created_at_ms`,
      `${f.timeMs('j.attempted_at')} AS attempted_at_ms`,
      `${f.timeMs('j.finalized_at')} AS finalized_at_ms`,
      'j.locked_by',
      `SUBSTR(${this.#x.lastError('j.errors')}, 1, ${LAST_ERROR_CHARS}) AS last_error`,
    ].join(', ');
  }

  #summary(r: SqlRow): JobSummary {
    return {
      id: str(r['id']),
      queue: str(r['queue']),
      kind: str(r['kind']),
      state: str(r['state']) as JobState,
      priority: num(r['priority']),
      attempt: num(r['attempt']),
      maxAttempts: num(r['max_attempts']),
      runAt: time(r['run_at_ms'])!,
      createdAt: time(r['created_at_ms'])!,
      attemptedAt: time(r['attempted_at_ms']),
      finalizedAt: time(r['finalized_at_ms']),
      lockedBy: r['locked_by'] === null || r['locked_by'] === undefined ? null : str(r['locked_by']),
      lastError: r['last_error'] === null || r['last_error'] === undefined ? null : str(r['last_error']),
    };
  }

  /**
   * The window of a page: the ids, newest first and at most `n`, of the rows below `cursor`
   * in the filter's states, each with `hit` = 1 when it also passes the residual conditions
   * (evaluated on the row the scan already reads; joining them afterwards let PostgreSQL's
   * planner pick a whole-table scan); every `hit` is 1 when
   * `residualOf` is null. Several states become one branch per state, each an ordered walk of
   * `(state, id)` stopped after `n` rows, merged. States are inlined (checked constants), so the
   * planner sees which one each branch reads.
   */
  #window(b: SqlBuilder, f: CheckedFilter, cursor: string | null, n: number, residualOf: ((b: SqlBuilder) => string[]) | null, seek: string | null): string {
    const branch = (state: string, oneState: boolean): string => {
      // Built in text order: the select list's parameters come before the WHERE's.
      const residual = residualOf ? residualOf(b) : [];
      const hit = residual.length === 0 ? '1' : `CASE WHEN ${residual.join(' AND ')} THEN 1 ELSE 0 END`;
      const where = [state];
      if (cursor !== null) where.push(`j.id < ${this.#x.id(b, cursor)}`);
      // MariaDB turns `state = … AND id < cursor` into ref access on `state` alone, walking the
      // state down from its newest entry to the cursor (450,000 entries mid-table at a million
      // rows); naming the index makes it a range on both columns, which seeks to the cursor.
      const hint = seek !== null && oneState ? ` FORCE INDEX (${seek})` : '';
      return `SELECT j.id AS pid, ${hit} AS hit FROM ${this.#t} AS j${hint} WHERE ${where.join(' AND ')} ORDER BY j.id DESC LIMIT ${n}`;
    };
    const inlined = (states: readonly string[]) => states.map((s) => `'${s}'`).join(', ');
    // No state filter: one walk of the primary key.
    if (f.states.length === 1 || f.states.length === JOB_STATES.length) return branch(`j.state IN (${inlined(f.states)})`, f.states.length === 1);
    const parts = f.states.map((s, i) => `SELECT pid, hit FROM (${branch(`j.state = '${s}'`, true)}) AS b${i}`);
    return `SELECT pid, hit FROM (${parts.join(' UNION ALL ')}) AS u ORDER BY pid DESC LIMIT ${n}`;
  }

  /**
   * The conditions beyond the states, on the table aliased `j`; empty when there are none. Kind
   * and queue are among them: no index serves either in id order (the claim index has `queue`
   * second but orders by priority and run time), so a page counts the rows they reject toward
   * its scan budget instead of walking half the table for a rare kind.
   */
  #residual(b: SqlBuilder, f: CheckedFilter, extra: ((b: SqlBuilder) => string) | null): string[] {
    const out: string[] = [];
    if (f.kinds) out.push(`j.kind IN (${b.list(f.kinds)})`);
    if (f.queues) out.push(`j.queue IN (${b.list(f.queues)})`);
    if (f.createdFrom !== null) out.push(`j.created_at >= ${b.time(new Date(f.createdFrom))}`);
    if (f.createdTo !== null) out.push(`j.created_at < ${b.time(new Date(f.createdTo))}`);
    for (const m of f.json) out.push(this.#x.jsonMatch(b, `j.${m.column}`, m));
    if (extra) out.push(extra(b));
    return out;
  }

  /**
   * One page: the window (`limit` rows, or `scanLimit` when residual conditions thin it out),
   * its first `limit` hits joined back to their rows, and in the same statement (so the same
   * snapshot) the window's size and lowest id, which say where the next page starts. The size
   * and lowest id come from a second, id-only walk of the same window: MariaDB evaluates a CTE
   * once per reference, which would run the residual conditions twice.
   */
  async #page(ex: Executor, f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, columns: string, extra: ((b: SqlBuilder) => string) | null): Promise<RawPage> {
    const seek = this.#seekIndex === null ? null : await this.#seekIndex(ex);
    try {
      return await this.#pageWith(ex, f, cursor, limit, scanLimit, columns, extra, seek);
    } catch (error) {
      if (seek === null) throw error;
      // The index the hint names may have gone since it was looked up: look again, once.
      const fresh = await this.#seekIndex!(ex, true);
      if (fresh === seek) throw error;
      return this.#pageWith(ex, f, cursor, limit, scanLimit, columns, extra, fresh);
    }
  }

  async #pageWith(ex: Executor, f: CheckedFilter, cursor: string | null, limit: number, scanLimit: number, columns: string, extra: ((b: SqlBuilder) => string) | null, seek: string | null): Promise<RawPage> {
    const b = this.#builder();
    const hasResidual = f.kinds !== null || f.queues !== null || f.createdFrom !== null || f.createdTo !== null || f.json.length > 0 || extra !== null;
    const size = hasResidual ? scanLimit : limit;
    // One template literal: its parameters are bound in the order the windows are written.
    const sql =
      `SELECT s.w_lo, s.w_n, m.* FROM (SELECT ${this.#f.idText('MIN(pid)')} AS w_lo, COUNT(*) AS w_n FROM (${this.#window(b, f, cursor, size, null, seek)}) AS w0) AS s LEFT JOIN ` +
      `(SELECT ${columns} FROM (SELECT pid FROM (${this.#window(b, f, cursor, size, (rb) => this.#residual(rb, f, extra), seek)}) AS w WHERE hit = 1 ORDER BY pid DESC LIMIT ${limit}) AS h ` +
      `JOIN ${this.#t} AS j ON j.id = h.pid) AS m ON 1 = 1`;
    const out = await ex.query(sql, b.params);
    const summary = out[0];
    const rows = out.filter((r) => r['id'] !== null && r['id'] !== undefined).sort((x, y) => newestFirst(str(x['id']), str(y['id'])));
    let next: string | null = null;
    if (rows.length === limit) next = str(rows[rows.length - 1]!['id']);
    else if (summary && num(summary['w_n']) === size && summary['w_lo'] !== null) next = str(summary['w_lo']);
    return { rows, next };
  }

  async searchJobs(ex: Executor, params: SearchJobsParams): Promise<JobPage> {
    const p = checkSearch(params);
    const page = await this.#page(ex, p.filter, p.cursor, p.limit, p.scanLimit, this.#summaryColumns(), null);
    return { jobs: page.rows.map((r) => this.#summary(r)), next: page.next };
  }

  async countMatching(ex: Executor, filter: JobFilter, options: { max: number }): Promise<MatchCount> {
    const f = checkFilter(filter);
    const max = checkInt('countMatching: max', options?.max, null, 1, MAX_BULK);
    const b = this.#builder();
    const where = [`j.state IN (${f.states.map((s) => `'${s}'`).join(', ')})`, ...this.#residual(b, f, null)];
    const rows = await ex.query(`SELECT COUNT(*) AS n FROM (SELECT j.id FROM ${this.#t} AS j WHERE ${where.join(' AND ')} LIMIT ${max + 1}) AS c`, b.params);
    const n = num(rows[0]?.['n'] ?? 0);
    return { count: Math.min(n, max), capped: n > max };
  }

  async jobDetail(ex: Executor, id: string): Promise<JobDetail | null> {
    const b = this.#builder();
    const f = this.#f;
    const sql =
      `SELECT ${this.#summaryColumns()}, ${f.jsonText('j.args')} AS args, ${f.jsonText('j.metadata')} AS metadata, ${f.jsonText('j.errors')} AS errors, ` +
      `${f.timeMs('j.lease_expires_at')} AS lease_expires_at_ms, j.unique_key FROM ${this.#t} AS j WHERE j.id = ${this.#x.id(b, checkId('jobDetail: id', id))} AND j.state <> 'paused'`;
    const [r] = await ex.query(sql, b.params);
    if (!r) return null;
    const text = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
    return {
      ...this.#summary(r),
      args: text(r['args']) ?? 'null',
      metadata: text(r['metadata']),
      errors: normaliseErrors(r['errors']),
      leaseExpiresAt: time(r['lease_expires_at_ms']),
      uniqueKey: r['unique_key'] === null || r['unique_key'] === undefined ? null : str(r['unique_key']),
    };
  }

  async overviewCounts(ex: Executor, options: OverviewOptions = {}): Promise<OverviewCount[]> {
    const cap = checkInt('overviewCounts: exactUpTo', options?.exactUpTo, 10_000, 1, 1_000_000);
    const t = this.#t;
    const out: OverviewCount[] = [];
    // Live jobs and pause markers: exact. `state` leads the claim index, so this reads only them.
    const live = await ex.query(`SELECT queue, state, COUNT(*) AS n FROM ${t} WHERE state IN ('available', 'running', 'paused') GROUP BY queue, state`, []);
    for (const r of live) {
      const paused = str(r['state']) === 'paused';
      out.push({ queue: str(r['queue']), state: str(r['state']) as JobState | 'paused', count: paused ? 1 : num(r['n']), estimated: false });
    }
    for (const state of FINAL_STATES) {
      // Small enough (the usual case): one bounded index scan gives every queue's exact count.
      const rows = await ex.query(`SELECT queue, COUNT(*) AS n FROM (SELECT queue FROM ${t} WHERE state = '${state}' LIMIT ${cap + 1}) AS x GROUP BY queue`, []);
      if (rows.reduce((sum, r) => sum + num(r['n']), 0) <= cap) {
        for (const r of rows) out.push({ queue: str(r['queue']), state, count: num(r['n']), estimated: false });
        continue;
      }
      const estimate = this.#x.estimate;
      if (!estimate) {
        const all = await ex.query(`SELECT queue, COUNT(*) AS n FROM ${t} WHERE state = '${state}' GROUP BY queue`, []);
        for (const r of all) out.push({ queue: str(r['queue']), state, count: num(r['n']), estimated: false });
        continue;
      }
      // Large: visit its queues one index probe at a time (a loose scan of the claim index),
      // counting each up to the cap and estimating past it.
      let after: string | null = null;
      for (let i = 0; i < MAX_QUEUES_WALKED; i++) {
        const probe: SqlRow[] = await ex.query(`SELECT MIN(queue) AS q FROM ${t} WHERE state = '${state}'${after === null ? '' : ' AND queue > ?'}`, after === null ? [] : [after]);
        const queue = probe[0]?.['q'];
        if (queue === null || queue === undefined) break;
        const q = str(queue);
        const [c] = await ex.query(`SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ${t} WHERE state = '${state}' AND queue = ? LIMIT ${cap + 1}) AS x`, [q]);
        const exact = num(c?.['n'] ?? 0);
        if (exact <= cap) {
          out.push({ queue: q, state, count: exact, estimated: false });
        } else {
          // The planner's estimate for the group, never below what was just counted.
          const guess = await estimate(ex, `SELECT 1 FROM ${t} WHERE state = '${state}' AND queue = ?`, [q]);
          out.push({ queue: q, state, count: Math.max(Math.round(guess ?? 0), cap + 1), estimated: true });
        }
        after = q;
      }
    }
    return out.sort((a, c) => (a.queue < c.queue ? -1 : a.queue > c.queue ? 1 : a.state < c.state ? -1 : a.state > c.state ? 1 : 0));
  }

  async throughput(ex: Executor, params: ThroughputParams): Promise<ThroughputBucket[]> {
    const p = checkThroughput(params);
    if (p.untilMs <= p.sinceMs) return [];
    const b = this.#builder();
    const bucket = this.#x.bucket(this.#f, 'finalized_at', p.bucketMs);
    // Only finished rows have a finalized_at. No (finalized_at) index ships (docs/design/dashboard.md),
    // so the range is a scan of the table.
    const sql =
      `SELECT ${bucket} AS bucket, state, COUNT(*) AS n FROM ${this.#t} WHERE finalized_at >= ${b.time(new Date(p.sinceMs))} ` +
      `AND finalized_at < ${b.time(new Date(p.untilMs))} AND state IN ('completed', 'cancelled', 'discarded') GROUP BY ${bucket}, state`;
    const rows = await ex.query(sql, b.params);
    return fillBuckets(p, rows.map((r) => ({ bucket: Math.floor(num(r['bucket'])), state: str(r['state']), n: num(r['n']) })));
  }

  async runningJobs(ex: Executor, limit: number): Promise<RunningJob[]> {
    const n = checkInt('runningJobs: limit', limit, null, 1, MAX_PAGE);
    const f = this.#f;
    const sql =
      `SELECT ${f.idText('j.id')} AS id, j.queue, j.kind, j.attempt, j.max_attempts, ${f.timeMs('j.run_at')} AS run_at_ms, j.locked_by, ` +
      `${f.timeMs('j.attempted_at')} AS attempted_at_ms, ${f.timeMs('j.lease_expires_at')} AS lease_expires_at_ms ` +
      `FROM ${this.#t} AS j WHERE j.state = 'running' ORDER BY j.id DESC LIMIT ${n}`;
    return (await ex.query(sql, [])).map((r) => ({
      id: str(r['id']),
      queue: str(r['queue']),
      kind: str(r['kind']),
      attempt: num(r['attempt']),
      maxAttempts: num(r['max_attempts']),
      runAt: time(r['run_at_ms'])!,
      lockedBy: r['locked_by'] === null || r['locked_by'] === undefined ? null : str(r['locked_by']),
      attemptedAt: time(r['attempted_at_ms']),
      leaseExpiresAt: time(r['lease_expires_at_ms']),
    }));
  }

  async applyAction(db: DispatcherDb, action: JobAction, target: JobTarget, now: Date | null): Promise<string[]> {
    const a = checkAction(action);
    const tg = checkTarget(target);
    const changed: string[] = [];
    if ('ids' in tg) {
      for (let i = 0; i < tg.ids.length; i += BULK_BATCH) changed.push(...(await this.#act(db, a, tg.ids.slice(i, i + BULK_BATCH), now)));
      return changed.sort(newestFirst);
    }
    const states = tg.filter.states.filter((s) => ACTION_STATES[a].includes(s));
    if (states.length === 0) return [];
    const filter = { ...tg.filter, states };
    const due = a === 'runNow' ? (b: SqlBuilder) => `j.run_at > ${b.now(now)}` : null;
    let cursor: string | null = null;
    // Newest first in short batches, each committed on its own: no long transaction holds
    // locks the workers wait for. The cursor only goes down, so no job is visited twice.
    while (changed.length < tg.max) {
      const page: RawPage = await this.#page(db.autocommit, filter, cursor, Math.min(BULK_BATCH, tg.max - changed.length), DEFAULT_SCAN, `${this.#f.idText('j.id')} AS id`, due);
      const ids = page.rows.map((r) => str(r['id']));
      if (ids.length > 0) changed.push(...(await this.#act(db, a, ids, now)));
      if (page.next === null) break;
      cursor = page.next;
    }
    return changed.sort(newestFirst);
  }

  /** Applies `action` to those of `ids` still in a state it applies to; returns the ids changed. */
  async #act(db: DispatcherDb, action: JobAction, ids: readonly string[], now: Date | null): Promise<string[]> {
    if (ids.length === 0) return [];
    const t = this.#t;
    const f = this.#f;
    const inStates = `state IN (${ACTION_STATES[action].map((s) => `'${s}'`).join(', ')})`;
    const returning = `RETURNING ${f.idText('id')} AS id`;
    if (action === 'delete') {
      // DELETE … RETURNING exists on all three (MariaDB since 10.0).
      const b = this.#builder();
      const rows = await db.autocommit.query(`DELETE FROM ${t} WHERE id IN (${b.list(ids)}) AND ${inStates} ${returning}`, b.params);
      return rows.map((r) => str(r['id']));
    }
    const set = (b: SqlBuilder): string => {
      switch (action) {
        case 'retry':
          // The error history stays: it explains why the job needed a retry.
          return `state = 'available', attempt = 0, run_at = ${b.now(now)}, finalized_at = NULL, lease_expires_at = NULL, ${this.#keyOn('available')}`;
        case 'cancel':
          return `state = 'cancelled', finalized_at = ${b.now(now)}, lease_expires_at = NULL, ${this.#keyOn('cancelled')}`;
        case 'discard':
          return `state = 'discarded', finalized_at = ${b.now(now)}, lease_expires_at = NULL, ${this.#keyOn('discarded')}`;
        case 'runNow':
          return `run_at = ${b.now(now)}`;
      }
    };
    const where = (b: SqlBuilder): string => `id IN (${b.list(ids)}) AND ${inStates}${action === 'runNow' ? ` AND run_at > ${b.now(now)}` : ''}`;
    if (f.updateReturning) {
      const b = this.#builder();
      const assignments = set(b);
      const rows = await db.autocommit.query(`UPDATE ${t} SET ${assignments} WHERE ${where(b)} ${returning}`, b.params);
      return rows.map((r) => str(r['id']));
    }
    // MariaDB has no UPDATE … RETURNING: lock the rows that qualify, then change exactly those.
    return db.transaction(async (tx) => {
      const s = this.#builder();
      const locked = (await tx.query(`SELECT ${f.idText('id')} AS id FROM ${t} WHERE ${where(s)} FOR UPDATE`, s.params)).map((r) => str(r['id']));
      if (locked.length === 0) return [];
      const u = this.#builder();
      const assignments = set(u);
      const n = await tx.execute(`UPDATE ${t} SET ${assignments} WHERE id IN (${u.list(locked)})`, u.params);
      if (n !== locked.length) throw new StateError(`${action}: changed ${n} of ${locked.length} locked jobs; rolled back.`);
      return locked;
    });
  }
}
