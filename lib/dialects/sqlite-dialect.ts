/**
 * SQLite 3.35+ (3.35 for RETURNING). Times are INTEGER epoch milliseconds, so they compare as
 * numbers whatever wrote them.
 *
 * @internal
 */
import { UnsupportedDatabaseError } from '../errors.ts';
import type { ClaimedJob } from '../job.ts';
import type { Executor } from '../sql/executor.ts';
import type { ClaimParams, DispatcherDb, PruneParams } from './dialect.ts';
import { SqlDialect, parseVersion, type SqlFlavor } from './sql-dialect.ts';

export const sqliteFlavor: SqlFlavor = {
  name: 'sqlite',
  quote: (ident) => ident.split('.').map((p) => `"${p}"`).join('.'),
  // julianday() has millisecond precision on every SQLite version; unixepoch('subsec') needs 3.42.
  nowSql: `CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)`,
  encodeTime: (d) => d.getTime(),
  timePlaceholder: '?',
  jsonPlaceholder: '?',
  plusMs: (expr) => `(${expr} + ?)`,
  timeMs: (col) => col,
  jsonText: (col) => col,
  idText: (col) => `CAST(${col} AS TEXT)`,
  // A column someone wrote bad JSON into would make json_insert() raise, failing the whole
  // statement (a rescue batch, a failure record): its text is kept as the first entry instead.
  // A valid non-array is wrapped the same way. CASE evaluates lazily, so json_type() never
  // sees bad JSON.
  appendJson: (col, value) =>
    `json_insert(CASE WHEN ${col} IS NULL THEN '[]' WHEN json_valid(${col}) THEN ` +
    `(CASE WHEN json_type(${col}) = 'array' THEN ${col} ELSE json_array(json(${col})) END) ` +
    `ELSE json_array(CAST(${col} AS TEXT)) END, '$[#]', json(${value}))`,
  withAttempt: (value, attempt) => `json_set(${value}, '$.attempt', ${attempt})`,
  uuidSql: 'lower(hex(randomblob(16)))',
  updateReturning: true,
};

export class SqliteDialect extends SqlDialect {
  protected readonly ddlHint: string;

  constructor(table: string) {
    super(sqliteFlavor, table);
    this.ddlHint = `schema/sqlite/0001_create_jobs.sql${this.renaming()}`;
  }

  async claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    const b = this.builder();
    // One UPDATE is one write transaction: SQLite takes the write lock when the statement
    // starts, so no other writer can slip between the SELECT and the UPDATE and no read→write
    // upgrade (which fails with SQLITE_BUSY without waiting) can happen.
    const sql =
      `UPDATE ${this.t} SET state = 'running', attempt = attempt + 1, attempted_at = ${b.now(p.now)}, ` +
      `lease_token = ${this.f.uuidSql}, locked_by = ${b.p(p.workerId)}, lease_expires_at = ${b.nowPlus(p.now, p.leaseMs)}, ` +
      `${this.keyOn('running')} WHERE id IN (SELECT id FROM ${this.t} WHERE state = 'available' AND ${this.openQueues(b, p.queues)} ` +
      `AND run_at <= ${b.now(p.now)} ORDER BY priority, run_at, id LIMIT ${p.limit}) RETURNING ${this.jobColumns}`;
    const rows = await db.autocommit.query(sql, b.params);
    return this.sortJobs(rows.map((r) => this.decodeJob(r)));
  }

  async rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    const b = this.builder();
    const set = this.rescueSet(b, errorJson, now);
    const sql =
      `UPDATE ${this.t} SET ${set} WHERE id IN (SELECT id FROM ${this.t} WHERE ${this.expiredWhere(b, now)} ` +
      `ORDER BY lease_expires_at LIMIT ${limit})`;
    return db.autocommit.execute(sql, b.params);
  }

  async prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    const b = this.builder();
    const pick = `SELECT id FROM ${this.t} WHERE ${this.pruneWhere(b, p)} ORDER BY id LIMIT ${p.limit}`;
    return db.autocommit.execute(`DELETE FROM ${this.t} WHERE id IN (${pick})`, b.params);
  }

  protected async checkVersion(ex: Executor): Promise<void> {
    const rows = await ex.query('SELECT sqlite_version() AS v', []);
    const text = String(rows[0]?.['v'] ?? '');
    const [major, minor] = parseVersion(text);
    if (major < 3 || (major === 3 && minor < 35)) {
      throw new UnsupportedDatabaseError(`SQLite 3.35 or newer is required for RETURNING (found ${text}).`);
    }
  }

  protected async listColumns(ex: Executor): Promise<string[]> {
    // `schema.table` names an attached database: without its schema argument the pragma reads
    // the first table of that name in any database (main's, if it has one).
    const { schema, name } = this.tableParts();
    const rows = schema === null
      ? await ex.query('SELECT name AS c FROM pragma_table_info(?)', [name])
      : await ex.query('SELECT name AS c FROM pragma_table_info(?, ?)', [name, schema]);
    return rows.map((r) => String(r['c']));
  }
}
