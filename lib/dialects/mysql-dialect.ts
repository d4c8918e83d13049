/**
 * MariaDB 10.6+ (10.6 for SKIP LOCKED; INSERT … RETURNING since 10.5). MySQL 8 has no
 * INSERT … RETURNING and is refused with a clear error until it has its own insert path.
 *
 * @internal
 */
import { createHash, randomUUID } from 'node:crypto';
import { StateError, UnsupportedDatabaseError } from '../errors.ts';
import type { ClaimedJob, UniqueInsertResult, UniqueInsertRow } from '../job.ts';
import type { Executor } from '../sql/executor.ts';
import type { ClaimParams, DispatcherDb, PruneParams } from './dialect.ts';
import { SqlDialect, STATEMENT_BUDGET_BYTES, parseVersion, type SqlFlavor } from './sql-dialect.ts';

/** `2030-01-02 03:04:05.678`: DATETIME(3) holds UTC wall time, so the zone is dropped on purpose. */
function utcDatetime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** Used if `max_allowed_packet` cannot be read: MariaDB's default (16 MiB) less a margin. */
const MYSQL_DEFAULT_BUDGET = 16 * 1024 * 1024 - 4096;

/** How long a unique insert waits for another insert of the same key (longer than InnoDB's default 50 s lock wait). */
const UNIQUE_LOCK_WAIT_S = 60;

export const mysqlFlavor: SqlFlavor = {
  name: 'mysql',
  quote: (ident) => ident.split('.').map((p) => `\`${p}\``).join('.'),
  // DATETIME has no zone; UTC_TIMESTAMP keeps the session time zone out of every comparison.
  nowSql: 'UTC_TIMESTAMP(3)',
  encodeTime: utcDatetime,
  timePlaceholder: '?',
  jsonPlaceholder: '?',
  plusMs: (expr) => `(${expr} + INTERVAL (? * 1000) MICROSECOND)`,
  // Plain arithmetic: UNIX_TIMESTAMP() would read the DATETIME in the session time zone.
  timeMs: (col) => `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${col}) DIV 1000)`,
  jsonText: (col) => `CAST(${col} AS CHAR)`,
  idText: (col) => `CAST(${col} AS CHAR)`,
  // JSON_ARRAY_APPEND raises on bad JSON under strict mode (possible in a column without the
  // JSON_VALID check), failing the whole statement: bad text is kept as the first entry instead.
  // A valid non-array is wrapped by JSON_ARRAY_APPEND itself.
  appendJson: (col, value) =>
    `JSON_ARRAY_APPEND(CASE WHEN ${col} IS NULL THEN JSON_ARRAY() WHEN JSON_VALID(${col}) THEN ${col} ELSE JSON_ARRAY(${col}) END, ` +
    `'$', JSON_EXTRACT(${value}, '$'))`,
  withAttempt: (value, attempt) => `JSON_SET(${value}, '$.attempt', ${attempt})`,
  uuidSql: 'UUID()',
  updateReturning: false,
};

export class MysqlDialect extends SqlDialect {
  protected readonly ddlHint: string;

  constructor(table: string) {
    super(mysqlFlavor, table);
    this.ddlHint = `schema/mysql/0001_create_jobs.sql${table === 'concordia_jobs' ? '' : ` (with the table renamed to ${table})`}`;
  }

  /**
   * MariaDB has no `ON CONFLICT … DO NOTHING`. `INSERT IGNORE` would also turn other errors
   * (truncation, bad JSON) into warnings, and catching a duplicate-key error means raising one
   * inside the caller's transaction. `ON DUPLICATE KEY UPDATE id = id` changes nothing, raises
   * nothing, and (like the unique index) waits for a transaction holding the key; its RETURNING
   * then yields the *existing* row. To tell the two apart, the insert writes a fresh token into
   * `lease_token`: only a row this statement created can carry it. (`lease_token` fences writes
   * only while a job is running, and every claim overwrites it.)
   *
   * InnoDB deadlocks when several inserts wait on one uncommitted key and its holder rolls back:
   * all waiters get the gap and then block each other's insert, and the victim's whole
   * transaction is rolled back. A named lock per key (held only around the statement, not to
   * commit) lets one Concordia insert at a time wait on the key, which removes that case. Named
   * locks belong to the connection, so `ex` must stay on one connection (a transaction).
   */
  /** `max_allowed_packet`, read once per client (a server restart with a new value needs a new client). */
  #maxPacket: Promise<number> | null = null;

  /**
   * mysql2 interpolates values into the statement text, so the whole INSERT, escaped, must fit
   * in one packet of at most `max_allowed_packet` bytes; a larger one makes the server drop the
   * connection (rolling back the caller's transaction).
   */
  override async maxStatementBytes(ex: Executor): Promise<number> {
    this.#maxPacket ??= ex.query('SELECT @@max_allowed_packet AS p', []).then(
      (rows) => {
        const p = Number(rows[0]?.['p']);
        // Room for the packet header and the statement's own text around the values.
        return Number.isFinite(p) && p > 0 ? Math.max(1024, p - 4096) : MYSQL_DEFAULT_BUDGET;
      },
      (error: unknown) => {
        this.#maxPacket = null;
        throw error;
      },
    );
    return Math.min(await this.#maxPacket, STATEMENT_BUDGET_BYTES);
  }

  override async insertUnique(ex: Executor, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    // GET_LOCK names are at most 64 characters: hash the table and key.
    const lock = `concordia:${createHash('sha256').update(`${this.table}\u0000${row.uniqueKey}`).digest('hex').slice(0, 48)}`;
    const [got] = await ex.query('SELECT GET_LOCK(?, ?) AS ok', [lock, UNIQUE_LOCK_WAIT_S]);
    if (Number(got?.['ok']) !== 1) {
      throw new StateError(`enqueueUnique: waited ${UNIQUE_LOCK_WAIT_S} s for another insert of the same unique key; the transaction is still usable.`);
    }
    try {
      const b = this.builder();
      const token = randomUUID();
      const sql =
        `INSERT INTO ${this.t} (queue, kind, args, priority, max_attempts, run_at, created_at, metadata, unique_key, unique_states, lease_token) ` +
        `VALUES (${this.rowValues(b, row, now)}, ${b.p(row.uniqueKey)}, ${b.p(row.uniqueStates)}, ${b.p(token)}) ` +
        `ON DUPLICATE KEY UPDATE id = id RETURNING ${this.f.idText('id')} AS id, lease_token`;
      const [found] = await ex.query(sql, b.params);
      if (!found) return { inserted: false, id: await this.holderOf(ex, row.uniqueKey) };
      const id = String(found['id']);
      return found['lease_token'] === token ? { inserted: true, id } : { inserted: false, id };
    } finally {
      // Named locks are not transactional: release now, whatever happened to the insert.
      await ex.query('SELECT RELEASE_LOCK(?) AS ok', [lock]).catch(() => undefined);
    }
  }

  /** In a short transaction: the named lock, the insert and the release must share one connection. */
  override insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return db.transaction((ex) => this.insertUnique(ex, row, now));
  }

  async claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    // MariaDB has no UPDATE … RETURNING and refuses `UPDATE … WHERE id IN (SELECT … LIMIT)`.
    // So: one short transaction of two statements. The locking read returns the jobs themselves
    // (a locking read sees each row's latest committed version, whatever the isolation level),
    // then an update by primary key writes lease tokens made here, one per job, so nothing has
    // to be read back: two statements between the adapter's BEGIN and COMMIT instead of three.
    return db.transaction(async (tx) => {
      const s = this.builder();
      // The select list names the text id `id`; ORDER BY qualifies the column, or it would sort
      // by that text (and lose the claim index's order).
      const pick =
        `SELECT ${this.jobColumns} FROM ${this.t} WHERE state = 'available' AND ${this.openQueues(s, p.queues)} ` +
        `AND run_at <= ${s.now(p.now)} ORDER BY priority, run_at, ${this.t}.id LIMIT ${p.limit} FOR UPDATE SKIP LOCKED`;
      const rows = await tx.query(pick, s.params);
      if (rows.length === 0) return [];
      const jobs = rows.map((row) => {
        const job = this.decodeJob(row);
        return { ...job, attempt: job.attempt + 1, leaseToken: randomUUID() };
      });
      const u = this.builder();
      // One template literal: its placeholders are bound in the order they are written.
      const update =
        `UPDATE ${this.t} SET state = 'running', attempt = attempt + 1, attempted_at = ${u.now(p.now)}, ` +
        `lease_token = CASE id ${jobs.map((j) => `WHEN ${u.p(j.id)} THEN ${u.p(j.leaseToken)}`).join(' ')} END, ` +
        `locked_by = ${u.p(p.workerId)}, lease_expires_at = ${u.nowPlus(p.now, p.leaseMs)}, ` +
        `${this.keyOn('running')} WHERE id IN (${u.list(jobs.map((j) => j.id))})`;
      const changed = await tx.execute(update, u.params);
      // The rows are locked by this transaction, so every one must change; if not, roll back
      // rather than hand out leases that were never written.
      if (changed !== jobs.length) throw new StateError(`claim: updated ${changed} of ${jobs.length} locked jobs; rolled back.`);
      return this.sortJobs(jobs);
    });
  }

  async rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    const b = this.builder();
    const set = this.rescueSet(b, errorJson, now);
    const sql = `UPDATE ${this.t} SET ${set} WHERE ${this.expiredWhere(b, now)} ORDER BY lease_expires_at LIMIT ${limit}`;
    return db.autocommit.execute(sql, b.params);
  }

  async prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    const b = this.builder();
    // Single-table DELETE takes ORDER BY and LIMIT directly on MariaDB.
    return db.autocommit.execute(`DELETE FROM ${this.t} WHERE ${this.pruneWhere(b, p)} ORDER BY id LIMIT ${p.limit}`, b.params);
  }

  protected async checkVersion(ex: Executor): Promise<void> {
    const rows = await ex.query('SELECT VERSION() AS v', []);
    const text = String(rows[0]?.['v'] ?? '');
    const [major, minor] = parseVersion(text);
    if (!/mariadb/i.test(text)) {
      throw new UnsupportedDatabaseError(
        `MySQL ${text} is not supported yet: Concordia needs INSERT … RETURNING, which MySQL lacks. Use MariaDB 10.6 or newer.`,
      );
    }
    if (major < 10 || (major === 10 && minor < 6)) {
      throw new UnsupportedDatabaseError(`MariaDB 10.6 or newer is required for SKIP LOCKED (found ${text}).`);
    }
  }

  protected async listColumns(ex: Executor): Promise<string[]> {
    const [schema, table] = this.table.includes('.') ? this.table.split('.') : [null, this.table];
    const rows = await ex.query(
      'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
      [schema ?? null, table ?? this.table],
    );
    return rows.map((r) => String(r['c']));
  }
}
