/**
 * The statements every SQL database shares, written once against a {@link SqlFlavor}: the small
 * set of expressions (quoting, time, JSON, UUID) in which PostgreSQL, MariaDB and SQLite differ.
 * Where a database needs a different shape of statement (the claim), its dialect overrides it.
 *
 * @internal
 */
import { SchemaMismatchError, StateError } from '../errors.ts';
import { JOB_COLUMNS, STATE_BITS, UNIQUE_COLUMNS, type ClaimedJob, type Fence, type InsertRow, type JobState, type UniqueInsertResult, type UniqueInsertRow } from '../job.ts';
import type { DialectName, Executor, SqlParam, SqlRow } from '../sql/executor.ts';
import type { BackendCapabilities } from '../backend/capabilities.ts';
import type { ClaimParams, Dialect, DispatcherDb, FailParams, PruneParams, Statement } from './dialect.ts';
import { withSavepoint, withSavepointSync } from './savepoint.ts';
import { isJobId } from '../job-id.ts';
import { DEFAULT_BATCH_BYTES } from '../insert-batches.ts';
import type * as Inspection from '../backend/inspection.ts';
import { SqlInspection } from './sql-inspection.ts';

/** The expressions in which the SQL databases differ. */
export interface SqlFlavor {
  readonly name: DialectName;
  /** Quotes a validated identifier (schema-qualified names are split on the dot). */
  quote(ident: string): string;
  /** The database's current time, as an expression. */
  readonly nowSql: string;
  /** Encodes a JS date as a bound parameter value. */
  encodeTime(date: Date): SqlParam;
  /** The placeholder text for a bound time (may carry a cast). */
  readonly timePlaceholder: string;
  /** The placeholder text for bound JSON text. */
  readonly jsonPlaceholder: string;
  /** `expr` plus a bound number of milliseconds (the placeholder is the only `?`). */
  plusMs(expr: string): string;
  /** A column's time as integer epoch milliseconds. */
  timeMs(col: string): string;
  /** A JSON column as text. */
  jsonText(col: string): string;
  /**
   * A BIGINT id column as decimal text. Ids leave SQL as text so that no driver setting
   * (mysql2 and better-sqlite3 return integers as JS numbers by default, exact only up to 2^53)
   * can round them; ids are bound back as strings, which every database compares exactly.
   */
  idText(col: string): string;
  /** Appends a bound JSON value (`valueSql`) to a JSON array column that may be NULL. */
  appendJson(col: string, valueSql: string): string;
  /** A bound JSON object (`valueSql`) with its `attempt` key set from a column. */
  withAttempt(valueSql: string, attemptCol: string): string;
  /** A fresh random token per row. */
  readonly uuidSql: string;
  /** Whether UPDATE … RETURNING exists (MariaDB and MySQL have none). */
  readonly updateReturning: boolean;
}

/** Collects SQL text and its parameters in step, so a placeholder is never out of place. */
export class SqlBuilder {
  readonly params: SqlParam[] = [];
  #flavor: SqlFlavor;
  constructor(flavor: SqlFlavor) {
    this.#flavor = flavor;
  }
  /** A plain bound value. */
  p(value: SqlParam): string {
    this.params.push(value);
    return '?';
  }
  /** A list of bound values for `IN (…)`. */
  list(values: readonly SqlParam[]): string {
    return values.map((v) => this.p(v)).join(', ');
  }
  json(text: string | null): string {
    this.params.push(text);
    return this.#flavor.jsonPlaceholder;
  }
  /** Current time: the bound fake time in tests, the database clock otherwise. */
  now(now: Date | null): string {
    if (now === null) return this.#flavor.nowSql;
    this.params.push(this.#flavor.encodeTime(now));
    return this.#flavor.timePlaceholder;
  }
  /** Current time plus `ms` milliseconds. */
  nowPlus(now: Date | null, ms: number): string {
    const base = this.now(now);
    if (ms === 0) return base;
    const sql = this.#flavor.plusMs(base);
    this.params.push(ms);
    return sql;
  }
  time(date: Date): string {
    this.params.push(this.#flavor.encodeTime(date));
    return this.#flavor.timePlaceholder;
  }
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return new Date(Number(value));
  if (typeof value === 'string') return new Date(value);
  return new Date(Number.NaN);
}

function toStr(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** The statement budget of databases without a packet limit that batches could reach. */
export const STATEMENT_BUDGET_BYTES = DEFAULT_BATCH_BYTES;

/** Sorts numeric id strings ascending without losing precision past 2^53. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * What every SQL dialect can do. `syncEnqueue` needs an executor with a synchronous path
 * (better-sqlite3); PostgreSQL adds `listen` wake-ups.
 */
export const SQL_CAPABILITIES: BackendCapabilities = {
  transactionalEnqueue: true,
  transactionalCompletion: true,
  atomicBatches: true,
  syncEnqueue: true,
  wakeups: 'poll',
  ids: 'store',
};

/** The shared SQL dialect; per-database subclasses override the claim and the version check. */
export abstract class SqlDialect implements Dialect {
  readonly name: DialectName;
  readonly capabilities: BackendCapabilities = SQL_CAPABILITIES;
  protected readonly f: SqlFlavor;
  /** The quoted table name. */
  protected readonly t: string;
  protected readonly table: string;
  /** The select list a claim returns, with times as epoch ms and JSON as text. */
  protected readonly jobColumns: string;

  constructor(flavor: SqlFlavor, table: string) {
    this.f = flavor;
    this.name = flavor.name;
    this.table = table;
    this.t = flavor.quote(table);
    this.jobColumns = [
      `${flavor.idText('id')} AS id`,
      'queue',
      'kind',
      `${flavor.jsonText('args')} AS args`,
      `${flavor.jsonText('metadata')} AS metadata`,
      'attempt',
      'max_attempts',
      'priority',
      `${flavor.timeMs('run_at')} AS run_at_ms`,
      `${flavor.timeMs('created_at')} AS created_at_ms`,
      'lease_token',
    ].join(', ');
  }

  /** The table's schema (null: the connection's own) and bare name, as the catalog names them. */
  protected tableParts(): { schema: string | null; name: string } {
    const dot = this.table.indexOf('.');
    return dot < 0 ? { schema: null, name: this.table } : { schema: this.table.slice(0, dot), name: this.table.slice(dot + 1) };
  }

  /**
   * How the shipped migrations must be edited for this table, for error messages: nothing for
   * `concordia_jobs`. A schema-qualified name goes in place of the table only; the index names
   * take the bare name, since CREATE INDEX (and a MariaDB KEY) accepts no schema.
   */
  protected renaming(): string {
    if (this.table === 'concordia_jobs') return '';
    const { schema, name } = this.tableParts();
    if (schema === null) return ` (with the table renamed to ${this.table})`;
    return ` (with the table renamed to ${this.table}, and each index name's concordia_jobs prefix to ${name}: an index name takes no schema)`;
  }

  protected builder(): SqlBuilder {
    return new SqlBuilder(this.f);
  }

  protected statement(name: string, b: SqlBuilder, sql: string): Statement {
    return { name, sql, params: b.params };
  }

  /** The inner text of one row's VALUES tuple, in the insert's column order, bound left to right. */
  protected rowValues(b: SqlBuilder, r: InsertRow, now: Date | null): string {
    return (
      `${b.p(r.queue)}, ${b.p(r.kind)}, ${b.json(r.argsJson)}, ${b.p(r.priority)}, ${b.p(r.maxAttempts)}, ` +
      `${r.runAt ? b.time(r.runAt) : b.nowPlus(now, r.delayMs)}, ${b.now(now)}, ${b.json(r.metadataJson)}`
    );
  }

  insertStatement(rows: readonly InsertRow[], now: Date | null): Statement {
    const b = this.builder();
    // Placeholders are numbered in text order, so each value is bound where it is written.
    const values = rows.map((r) => `(${this.rowValues(b, r, now)})`);
    // INSERT … RETURNING exists on PostgreSQL, SQLite ≥ 3.35 and MariaDB ≥ 10.5.
    const sql =
      `INSERT INTO ${this.t} (queue, kind, args, priority, max_attempts, run_at, created_at, metadata) ` +
      `VALUES ${values.join(', ')} RETURNING ${this.f.idText('id')} AS id`;
    return this.statement('jobs.insert', b, sql);
  }

  insertedIds(rows: SqlRow[]): string[] {
    // Every database here numbers a multi-row VALUES list in order; sorting guards against a
    // driver that reorders the RETURNING rows.
    return rows.map((r) => toStr(r['id'] ?? Object.values(r)[0])).sort(compareIds);
  }

  async insert(ex: Executor, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
    const st = this.insertStatement(rows, now);
    return this.insertedIds(await ex.query(st.sql, st.params));
  }

  async maxBatchBytes(_ex: Executor): Promise<number> {
    // PostgreSQL takes messages up to 1 GB and SQLite strings up to 1e9 bytes (bound values are
    // not part of the SQL text); a fixed budget keeps one statement, and its memory, moderate.
    return STATEMENT_BUDGET_BYTES;
  }

  isJobId(text: string): boolean {
    return isJobId(text);
  }

  atomic<T>(ex: Executor, name: string, fn: () => Promise<T>): Promise<T> {
    return withSavepoint(this, ex, name, fn);
  }

  atomicSync<T>(ex: Executor, name: string, fn: () => T): T {
    return withSavepointSync(this, ex, name, fn);
  }

  savepointSql(action: 'begin' | 'release' | 'rollback', name: string): string {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new StateError(`Invalid savepoint name ${JSON.stringify(name)}.`);
    return action === 'begin' ? `SAVEPOINT ${name}` : action === 'release' ? `RELEASE SAVEPOINT ${name}` : `ROLLBACK TO SAVEPOINT ${name}`;
  }

  insertSync(ex: Executor, rows: readonly InsertRow[], now: Date | null): string[] {
    if (!ex.sync) throw new StateError('This adapter has no synchronous path: use the async enqueue() instead of enqueueSync().');
    const st = this.insertStatement(rows, now);
    return this.insertedIds(ex.sync.query(st.sql, st.params));
  }

  /**
   * The unique insert of PostgreSQL and SQLite: `ON CONFLICT (unique_key) DO NOTHING` waits for
   * a transaction that holds the same key and then skips the row without raising an error, so
   * the caller's transaction stays usable.
   */
  uniqueInsertStatement(row: UniqueInsertRow, now: Date | null): Statement {
    const b = this.builder();
    const sql =
      `INSERT INTO ${this.t} (queue, kind, args, priority, max_attempts, run_at, created_at, metadata, unique_key, unique_states) ` +
      `VALUES (${this.rowValues(b, row, now)}, ${b.p(row.uniqueKey)}, ${b.p(row.uniqueStates)}) ON CONFLICT (unique_key) DO NOTHING RETURNING ${this.f.idText('id')} AS id`;
    return this.statement('jobs.insert_unique', b, sql);
  }

  async insertUnique(ex: Executor, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    const st = this.uniqueInsertStatement(row, now);
    const inserted = await ex.query(st.sql, st.params);
    if (inserted.length > 0) return { inserted: true, id: toStr(inserted[0]!['id'] ?? Object.values(inserted[0]!)[0]) };
    return { inserted: false, id: await this.holderOf(ex, row.uniqueKey) };
  }

  insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return this.insertUnique(db.autocommit, row, now);
  }

  /** The id of the job holding `key`, as the caller's snapshot sees it (null if it cannot). */
  protected async holderOf(ex: Executor, key: string): Promise<string | null> {
    const b = this.builder();
    const rows = await ex.query(`SELECT ${this.f.idText('id')} AS id FROM ${this.t} WHERE unique_key = ${b.p(key)}`, b.params);
    return rows.length > 0 ? toStr(rows[0]!['id']) : null;
  }

  /**
   * The assignment that drops a job's unique key when it enters `state` and `state` is not among
   * its `unique_states`, so a new job with the same key can then be enqueued. A job without a key
   * has NULL `unique_states`; the CASE then keeps the NULL key. Binds nothing.
   */
  protected keyOn(state: JobState): string {
    return `unique_key = CASE WHEN (unique_states & ${STATE_BITS[state]}) = 0 THEN NULL ELSE unique_key END`;
  }

  abstract claim(db: DispatcherDb, params: ClaimParams): Promise<ClaimedJob[]>;

  /**
   * The claim's queue condition: the requested queues, less those paused in the database when
   * the claim statement runs. The worker's own list of paused queues is refreshed only every
   * `pauseCheckMs`; this condition makes a pause committed before a claim starts hold for that
   * claim, in every process. The marker rows are read once per statement, never per candidate
   * row: for one queue (the common case) an uncorrelated NOT EXISTS, which PostgreSQL evaluates
   * once before the scan (a paused queue is then not scanned at all) and which leaves the
   * ordered index scan of the claim as it was; for several queues a NOT IN over the markers,
   * materialised once as a set. The markers are read by a plain (non-locking) read inside the
   * locking claim: PostgreSQL neither locks nor SKIP LOCKs the rows of a subquery, so concurrent
   * claimers all see every committed marker. MariaDB reads every table of an UPDATE with locks,
   * so MysqlDialect reads the markers in a statement of their own.
   */
  protected openQueues(b: SqlBuilder, queues: readonly string[]): string {
    const markers = `${this.t} AS pause_marker WHERE pause_marker.state = 'paused'`;
    if (queues.length === 1) {
      const queue = queues[0]!;
      return `queue = ${b.p(queue)} AND NOT EXISTS (SELECT 1 FROM ${markers} AND pause_marker.queue = ${b.p(queue)})`;
    }
    return `queue IN (${b.list(queues)}) AND queue NOT IN (SELECT pause_marker.queue FROM ${markers})`;
  }

  protected decodeJob(row: SqlRow): ClaimedJob {
    return {
      id: toStr(row['id']),
      queue: toStr(row['queue']),
      kind: toStr(row['kind']),
      args: row['args'],
      metadata: row['metadata'] ?? null,
      attempt: Number(row['attempt']),
      maxAttempts: Number(row['max_attempts']),
      priority: Number(row['priority']),
      runAt: toDate(row['run_at_ms']),
      createdAt: toDate(row['created_at_ms']),
      leaseToken: toStr(row['lease_token']),
    };
  }

  /** Orders claimed rows as the claim query ranks them (RETURNING gives no order). */
  protected sortJobs(jobs: ClaimedJob[]): ClaimedJob[] {
    return jobs.sort(
      (a, b) => a.priority - b.priority || a.runAt.getTime() - b.runAt.getTime() || compareIds(a.id, b.id),
    );
  }

  /** The `WHERE` for a set of fences: ids and tokens are each unique per claim, so two IN lists are exact. */
  /** The fence's state test; a dialect may reword it to steer its planner (see PostgresDialect). */
  protected readonly isRunning: string = "state = 'running'";

  protected fenceWhere(b: SqlBuilder, fences: readonly Fence[]): string {
    return `id IN (${b.list(fences.map((x) => x.id))}) AND lease_token IN (${b.list([...new Set(fences.map((x) => x.token))])}) AND ${this.isRunning}`;
  }

  /**
   * Runs a fenced UPDATE over many jobs and returns the ids it changed. Without UPDATE …
   * RETURNING (MariaDB), a short count check decides whether a follow-up read is needed.
   *
   * A completion also counts rows it finds already completed under its own lease token: when
   * an earlier try of the same completion committed but its acknowledgement was lost (the
   * connection dropped after COMMIT), the retry matches nothing, and without this the worker
   * would report a lease lost for a job it did complete. No other write sets `completed`
   * while keeping a token, and a token belongs to one claim, so such a row is this completion's.
   */
  protected async fencedUpdate(
    db: DispatcherDb,
    name: string,
    fences: readonly Fence[],
    set: (b: SqlBuilder) => string,
    resultState: 'completed' | 'running',
  ): Promise<Set<string>> {
    if (fences.length === 0) return new Set();
    void name;
    const b = this.builder();
    const assignments = set(b);
    const where = this.fenceWhere(b, fences);
    const sql = `UPDATE ${this.t} SET ${assignments} WHERE ${where}`;
    let changed: Set<string>;
    if (this.f.updateReturning) {
      const rows = await db.autocommit.query(`${sql} RETURNING ${this.f.idText('id')} AS id`, b.params);
      changed = new Set(rows.map((r) => toStr(r['id'])));
      if (changed.size === fences.length || resultState !== 'completed') return changed;
    } else {
      const count = await db.autocommit.execute(sql, b.params);
      if (count === fences.length) return new Set(fences.map((x) => x.id));
      changed = new Set();
    }
    // Some fences failed: the rows that now carry our token in the target state are ours.
    const missing = fences.filter((x) => !changed.has(x.id));
    for (const id of await this.heldIn(db, missing, resultState)) changed.add(id);
    return changed;
  }

  /** The ids among `fences` whose row carries the fence's token in `state`. */
  protected async heldIn(db: DispatcherDb, fences: readonly Fence[], state: 'completed' | 'running'): Promise<string[]> {
    const v = this.builder();
    const check = `SELECT ${this.f.idText('id')} AS id FROM ${this.t} WHERE id IN (${v.list(fences.map((x) => x.id))}) AND lease_token IN (${v.list([...new Set(fences.map((x) => x.token))])}) AND state = '${state}'`;
    return (await db.autocommit.query(check, v.params)).map((r) => toStr(r['id']));
  }

  complete(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
    return this.fencedUpdate(
      db,
      'jobs.complete',
      fences,
      (b) => `state = 'completed', finalized_at = ${b.now(now)}, lease_expires_at = NULL, ${this.keyOn('completed')}`,
      'completed',
    );
  }

  async pausedQueues(ex: Executor): Promise<string[]> {
    // state = 'paused' is a prefix of the claim index: this reads only the marker rows.
    const rows = await ex.query(`SELECT DISTINCT queue FROM ${this.t} WHERE state = 'paused'`, []);
    return rows.map((r) => toStr(r['queue']));
  }

  async setQueuePaused(ex: Executor, queue: string, paused: boolean, now: Date | null): Promise<boolean> {
    if (!paused) return (await ex.execute(`DELETE FROM ${this.t} WHERE state = 'paused' AND queue = ?`, [queue])) > 0;
    const existing = await ex.query(`SELECT id FROM ${this.t} WHERE state = 'paused' AND queue = ?`, [queue]);
    if (existing.length > 0) return false;
    // Two processes pausing at once may both insert a marker: harmless, resume deletes them all.
    const b = this.builder();
    const sql =
      `INSERT INTO ${this.t} (queue, kind, args, state, max_attempts, run_at, created_at) ` +
      `VALUES (${b.p(queue)}, 'concordia.queue_paused', ${b.json('{}')}, 'paused', 1, ${b.now(now)}, ${b.now(now)})`;
    await ex.execute(sql, b.params);
    return true;
  }

  async completeWithin(ex: Executor, fence: Fence, now: Date | null): Promise<boolean> {
    const b = this.builder();
    const sql =
      `UPDATE ${this.t} SET state = 'completed', finalized_at = ${b.now(now)}, lease_expires_at = NULL, ${this.keyOn('completed')} ` +
      `WHERE id = ${b.p(fence.id)} AND lease_token = ${b.p(fence.token)} AND ${this.isRunning}`;
    return (await ex.execute(sql, b.params)) === 1;
  }

  extendLeases(db: DispatcherDb, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
    return this.fencedUpdate(
      db,
      'jobs.extend_leases',
      fences,
      (b) => `lease_expires_at = ${b.nowPlus(now, leaseMs)}`,
      'running',
    );
  }

  async fail(db: DispatcherDb, p: FailParams): Promise<boolean> {
    const b = this.builder();
    // Every template below binds its values in text order: placeholders are positional.
    const errorJson = p.errorJson;
    const errors = (): string => (errorJson === null ? '' : `, errors = ${this.f.appendJson('errors', b.json(errorJson))}`);
    const refund = p.refundAttempt ? ', attempt = attempt - 1' : '';
    const set =
      p.to === 'available'
        ? `state = 'available', run_at = ${b.nowPlus(p.now, p.delayMs)}, lease_expires_at = NULL, ${this.keyOn('available')}${refund}${errors()}`
        : `state = '${p.to === 'cancelled' ? 'cancelled' : 'discarded'}', finalized_at = ${b.now(p.now)}, lease_expires_at = NULL, ` +
          `${this.keyOn(p.to === 'cancelled' ? 'cancelled' : 'discarded')}${errors()}`;
    // MariaDB evaluates SET left to right; each assignment reads only its own column, so order is safe.
    const sql = `UPDATE ${this.t} SET ${set} WHERE id = ${b.p(p.id)} AND lease_token = ${b.p(p.token)} AND ${this.isRunning}`;
    if ((await db.autocommit.execute(sql, b.params)) === 1) return true;
    if (!p.retried) return false;
    // Only after a try whose answer was lost: the row in the target state under our token is
    // that try's write (a rescue in between could look the same, but it needs our lease to have
    // expired while we were still retrying, and would then have recorded the job too).
    const rows = await db.autocommit.query(`SELECT id FROM ${this.t} WHERE id = ? AND lease_token = ? AND state = ?`, [p.id, p.token, p.to]);
    return rows.length === 1;
  }

  async release(db: DispatcherDb, fences: readonly Fence[], _now: Date | null): Promise<number> {
    if (fences.length === 0) return 0;
    const b = this.builder();
    // run_at stays: the job was due when it was claimed, so it keeps its place (as a rescue does).
    const sql =
      `UPDATE ${this.t} SET state = 'available', attempt = attempt - 1, lease_expires_at = NULL, ${this.keyOn('available')} ` +
      `WHERE ${this.fenceWhere(b, fences)}`;
    return db.autocommit.execute(sql, b.params);
  }

  /**
   * The SET list of a rescue; the WHERE differs per database. `state` goes last: MariaDB assigns
   * left to right. `run_at` is left alone: the job was due when it was claimed, so it keeps its
   * place in the claim order instead of going behind every job enqueued since.
   */
  protected rescueSet(b: SqlBuilder, errorJson: string, now: Date | null): string {
    const exhausted = 'attempt >= max_attempts';
    return (
      `errors = ${this.f.appendJson('errors', this.f.withAttempt(b.json(errorJson), 'attempt'))}, ` +
      `finalized_at = CASE WHEN ${exhausted} THEN ${b.now(now)} ELSE NULL END, lease_expires_at = NULL, ` +
      // The key follows the state the CASE below picks (it reads only columns this SET leaves alone).
      `unique_key = CASE WHEN (unique_states & (CASE WHEN ${exhausted} THEN ${STATE_BITS.discarded} ELSE ${STATE_BITS.available} END)) = 0 ` +
      `THEN NULL ELSE unique_key END, ` +
      `state = CASE WHEN ${exhausted} THEN 'discarded' ELSE 'available' END`
    );
  }

  abstract rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number>;

  /**
   * Which running jobs a rescue takes back. A running row without a lease expiry can only have
   * been written behind our back; no worker can hold it, so it counts as expired rather than
   * staying `running` for ever.
   */
  protected expiredWhere(b: SqlBuilder, now: Date | null): string {
    return `state = 'running' AND (lease_expires_at < ${b.now(now)} OR lease_expires_at IS NULL)`;
  }

  abstract prune(db: DispatcherDb, params: PruneParams): Promise<number>;

  /** The WHERE of a prune: one final state, finished before the cutoff. */
  protected pruneWhere(b: SqlBuilder, p: PruneParams): string {
    return `state = ${b.p(p.state)} AND finalized_at < ${b.nowPlus(p.now, -p.olderThanMs)}`;
  }

  async cancel(ex: Executor, id: string, now: Date | null): Promise<boolean> {
    const b = this.builder();
    const sql = `UPDATE ${this.t} SET state = 'cancelled', finalized_at = ${b.now(now)}, lease_expires_at = NULL, ${this.keyOn('cancelled')} WHERE id = ${b.p(id)} AND state IN ('available', 'running')`;
    return (await ex.execute(sql, b.params)) === 1;
  }

  /** Lists the table's columns, or an empty list when the table does not exist. */
  protected abstract listColumns(ex: Executor): Promise<string[]>;
  protected abstract checkVersion(ex: Executor): Promise<void>;
  /** How to create the table, for the error message. */
  protected abstract readonly ddlHint: string;

  async verify(ex: Executor): Promise<void> {
    await this.checkVersion(ex);
    const present = new Set((await this.listColumns(ex)).map((c) => c.toLowerCase()));
    if (present.size === 0) {
      throw new SchemaMismatchError(
        `The jobs table "${this.table}" does not exist on this ${this.name} database. Create it with ${this.ddlHint}, ` +
          'or with your ORM\'s schema artifact from schema/ (see the README, "The jobs table").',
        [],
      );
    }
    const missing = JOB_COLUMNS.filter((c) => !present.has(c));
    if (missing.length > 0 && missing.every((c) => UNIQUE_COLUMNS.includes(c))) {
      throw new SchemaMismatchError(
        `The jobs table "${this.table}" lacks column(s) ${missing.join(', ')} (unique jobs). Apply schema/${this.name}/0002_unique_jobs.sql` +
          `${this.renaming()}, or your ORM artifact's 0002 migration.`,
        missing,
      );
    }
    if (missing.length > 0) {
      throw new SchemaMismatchError(
        `The jobs table "${this.table}" lacks column(s) ${missing.join(', ')}. Compare it with ${this.ddlHint} ` +
          'and migrate it (an older schema, or a hand-made table?).',
        missing,
      );
    }
  }

  // --- Inspection (concordia/testing, the CLI). Types are imported inline to keep this block self-contained.

  async listJobs(ex: Executor, filter: import('./dialect.ts').ListJobsFilter): Promise<import('./dialect.ts').ListedJob[]> {
    const b = this.builder();
    const where: string[] = [];
    if (filter.kind !== undefined) where.push(`kind = ${b.p(filter.kind)}`);
    if (filter.queue !== undefined) where.push(`queue = ${b.p(filter.queue)}`);
    if (filter.state !== undefined) where.push(`state = ${b.p(filter.state)}`);
    // Pause markers (state 'paused') are queue settings, not jobs.
    else where.push(`state <> 'paused'`);
    // The limit is inlined (like the claim's) after an integer check: MariaDB refuses a bound LIMIT in some modes.
    const limit = Math.max(1, Math.min(Math.trunc(filter.limit ?? 1000), 100_000));
    const f = this.f;
    const sql =
      `SELECT ${f.idText('id')} AS id, queue, kind, state, ${f.jsonText('args')} AS args, ${f.jsonText('metadata')} AS metadata, ` +
      `${f.jsonText('errors')} AS errors, priority, attempt, max_attempts, ${f.timeMs('run_at')} AS run_at_ms, ` +
      `${f.timeMs('created_at')} AS created_at_ms, ${f.timeMs('finalized_at')} AS finalized_at_ms FROM ${this.t}` +
      // Qualified: a bare `id` would name the text alias above and sort as text.
      `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${this.t}.id LIMIT ${limit}`;
    const rows = await ex.query(sql, b.params);
    // Drivers hand JSON back as text (we cast it) or already parsed (SQLite through some ORMs).
    // Text that is not JSON (written behind our back) is handed over as it is: one bad row
    // must not make the whole listing (the CLI, the testing helpers) fail.
    const parse = (v: unknown): unknown => {
      if (typeof v !== 'string') return v ?? null;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    };
    return rows
      .map((r) => ({
        id: toStr(r['id']),
        queue: toStr(r['queue']),
        kind: toStr(r['kind']),
        state: toStr(r['state']) as import('../job.ts').JobState,
        args: parse(r['args']),
        metadata: parse(r['metadata']),
        errors: parse(r['errors']),
        priority: Number(r['priority']),
        attempt: Number(r['attempt']),
        maxAttempts: Number(r['max_attempts']),
        runAt: toDate(r['run_at_ms']),
        createdAt: toDate(r['created_at_ms']),
        finalizedAt: r['finalized_at_ms'] === null || r['finalized_at_ms'] === undefined ? null : toDate(r['finalized_at_ms']),
      }))
      .sort((a, c) => compareIds(a.id, c.id));
  }

  async countJobs(ex: Executor): Promise<import('./dialect.ts').JobCount[]> {
    const rows = await ex.query(`SELECT queue, state, COUNT(*) AS n FROM ${this.t} GROUP BY queue, state ORDER BY queue, state`, []);
    return rows.map((r) => ({ queue: toStr(r['queue']), state: toStr(r['state']) as import('../job.ts').JobState, count: Number(r['n']) }));
  }

  // --- Operator actions (the CLI). Types are imported inline to keep this block self-contained.

  async retry(ex: Executor, id: string, now: Date | null): Promise<import('./dialect.ts').RetryResult> {
    const b = this.builder();
    // The errors history stays: it explains why the job needed a retry.
    const sql =
      `UPDATE ${this.t} SET state = 'available', attempt = 0, run_at = ${b.now(now)}, finalized_at = NULL, lease_expires_at = NULL ` +
      `WHERE id = ${b.p(id)} AND state IN ('discarded', 'cancelled')`;
    if ((await ex.execute(sql, b.params)) === 1) return { retried: true, state: 'available' };
    // Not retried: read the state so the caller can say why (unknown id, or still live / completed).
    const rows = await ex.query(`SELECT state FROM ${this.t} WHERE id = ?`, [id]);
    const state = rows[0]?.['state'];
    return { retried: false, state: state === undefined || state === null ? null : (toStr(state) as import('../job.ts').JobState) };
  }

  // --- Dashboard: the statements live in sql-inspection.ts.

  #inspection: SqlInspection | undefined;
  protected get inspection(): SqlInspection {
    return (this.#inspection ??= new SqlInspection(this.f, this.t, () => this.builder(), (state) => this.keyOn(state), this.seekIndex()));
  }
  /**
   * How the dashboard's lists find the table's `(state, id)` index to name in a hint, on a
   * database whose optimizer needs one to seek to a cursor; null (the default) where it seeks
   * on its own (PostgreSQL, SQLite).
   */
  protected seekIndex(): ((ex: Executor, again?: boolean) => Promise<string | null>) | null {
    return null;
  }
  searchJobs(ex: Executor, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage> {
    return this.inspection.searchJobs(ex, params);
  }
  countMatching(ex: Executor, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount> {
    return this.inspection.countMatching(ex, filter, options);
  }
  jobDetail(ex: Executor, id: string): Promise<Inspection.JobDetail | null> {
    return this.inspection.jobDetail(ex, id);
  }
  overviewCounts(ex: Executor, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]> {
    return this.inspection.overviewCounts(ex, options);
  }
  throughput(ex: Executor, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]> {
    return this.inspection.throughput(ex, params);
  }
  runningJobs(ex: Executor, limit: number): Promise<Inspection.RunningJob[]> {
    return this.inspection.runningJobs(ex, limit);
  }
  applyAction(db: DispatcherDb, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]> {
    return this.inspection.applyAction(db, action, target, now);
  }
}

/** Parses `major.minor` out of a version string, e.g. `10.11.19-MariaDB` → [10, 11]. */
export function parseVersion(text: string): [number, number] {
  const m = /(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}
