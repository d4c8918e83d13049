/**
 * MariaDB 10.6+ (10.6 for SKIP LOCKED; INSERT … RETURNING since 10.5). MySQL 8 has no
 * INSERT … RETURNING and is refused with a clear error until it has its own insert path.
 *
 * @internal
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { StateError, UnsupportedDatabaseError } from '../errors.ts';
import type { ClaimedJob, UniqueInsertResult, UniqueInsertRow } from '../job.ts';
import type { Executor } from '../sql/executor.ts';
import type { ClaimParams, DispatcherDb, PruneParams } from './dialect.ts';
import { SqlDialect, STATEMENT_BUDGET_BYTES, parseVersion, type SqlBuilder, type SqlFlavor } from './sql-dialect.ts';

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

/** How many times a claim's, rescue's or prune's statement runs when InnoDB picks it as a deadlock victim. */
const CLAIM_DEADLOCK_TRIES = 3;

/**
 * Whether `error` is InnoDB's deadlock error (1213), through whichever wrapper the adapter's
 * driver or ORM put around it (`cause`, Sequelize's `parent`, TypeORM's `driverError`, …).
 */
export function isDeadlock(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const r = e as { errno?: unknown; code?: unknown; message?: unknown; cause?: unknown; parent?: unknown; original?: unknown; driverError?: unknown };
    if (r.errno === 1213 || r.code === 'ER_LOCK_DEADLOCK') return true;
    if (typeof r.message === 'string' && r.message.includes('Deadlock found when trying to get lock')) return true;
    e = r.cause ?? r.parent ?? r.original ?? r.driverError;
  }
  return false;
}

/** Runs an autocommitted statement again when InnoDB rolled it back as a deadlock victim. */
async function retryDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= CLAIM_DEADLOCK_TRIES || !isDeadlock(error)) throw error;
    }
  }
}

export class MysqlDialect extends SqlDialect {
  protected readonly ddlHint: string;

  constructor(table: string) {
    super(mysqlFlavor, table);
    this.ddlHint = `schema/mysql/0001_create_jobs.sql${this.renaming()}`;
  }

  /** `max_allowed_packet`, read once per client (a server restart with a new value needs a new client). */
  #maxPacket: Promise<number> | null = null;

  /**
   * mysql2 interpolates values into the statement text, so the whole INSERT, escaped, must fit
   * in one packet of at most `max_allowed_packet` bytes; a larger one makes the server drop the
   * connection (rolling back the caller's transaction).
   */
  override async maxBatchBytes(ex: Executor): Promise<number> {
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

  /**
   * A claim is three autocommitted statements and no transaction: MariaDB has no UPDATE …
   * RETURNING, and BEGIN, COMMIT and the dispatcher's isolation level would each cost one more
   * round trip (a claim was five through mysql2).
   *
   * 1. Which requested queues are paused: a plain read, so it takes no lock and waits for none.
   *    It cannot ride inside the UPDATE: every read in a multi-table UPDATE is a locking read,
   *    and under REPEATABLE READ (the server's default, and the pool session's unless the user
   *    changed it) the gap lock it leaves past the pause markers is where other claims insert
   *    their `running` index entries; two claims then deadlock (measured).
   * 2. One UPDATE joined to a derived table that picks the jobs with `FOR UPDATE SKIP LOCKED`:
   *    the picked rows are locked, and the others' locks skipped, for that one statement only.
   *    STRAIGHT_JOIN makes the pick run first and the table follow by primary key: left to the
   *    planner, a small table is scanned first instead, with a lock on every row, which waits
   *    for any row another transaction holds (measured).
   *    Each lease token is made in SQL: a random tag of this claim (16 hex digits) followed by
   *    the job's id, at most 36 characters for any BIGINT. The tag has a fixed length, so a token
   *    is unique per job and per claim, and no token has to travel to the server or back.
   * 3. A plain read of the rows carrying this claim's tag, newest lease first: the rows just
   *    written are the last leases taken, so the scan of the lease index stops after about
   *    `taken` rows. A job cancelled in between is no longer `running` and is not handed out.
   *
   * Under REPEATABLE READ (the pool session's level unless the user set another) InnoDB still
   * reports a rare deadlock between claims, or between a claim and an enqueue, when many run at
   * once: a few per 20-second stress run of four claim loops and two enqueue loops, where the
   * earlier transactional claim saw about forty; READ COMMITTED sessions showed none. A deadlock
   * rolls back the whole autocommitted UPDATE, so the claim runs it again (a few times) instead
   * of failing its round; when InnoDB picks the enqueue instead, the caller's transaction gets
   * MariaDB's deadlock error, as with any other deadlock.
   *
   * Requires that the pool reads from the server it writes to (no proxy that sends autocommitted
   * SELECTs to a replica). With `binlog_format=STATEMENT` the UPDATE is logged with a warning
   * (SKIP LOCKED is unsafe for statement logging); MIXED, the default, logs it by row.
   */
  async claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    if (p.queues.length === 0) return [];
    const open = await this.unpausedQueues(db.autocommit, [...new Set(p.queues)]);
    if (open.length === 0) return [];
    const tag = randomBytes(8).toString('hex');
    const b = this.builder();
    // One template literal: placeholders are bound in the order they are written.
    const update =
      `UPDATE (${this.pickSql(b, open, p)}) AS picked STRAIGHT_JOIN ${this.t} AS claimed ON claimed.id = picked.id ` +
      `SET claimed.state = 'running', claimed.attempt = claimed.attempt + 1, claimed.attempted_at = ${b.now(p.now)}, ` +
      `claimed.lease_token = CONCAT(${b.p(tag)}, claimed.id), claimed.locked_by = ${b.p(p.workerId)}, ` +
      `claimed.lease_expires_at = ${b.nowPlus(p.now, p.leaseMs)}, ${this.keyOn('running')}`;
    const taken = await retryDeadlock(() => db.autocommit.execute(update, b.params));
    if (taken === 0) return [];
    const read =
      `SELECT ${this.jobColumns} FROM ${this.t} WHERE state = 'running' AND lease_token LIKE ? ` +
      `ORDER BY lease_expires_at DESC LIMIT ${taken}`;
    const rows = await db.autocommit.query(read, [`${tag}%`]);
    return this.sortJobs(rows.map((row) => this.decodeJob(row)));
  }

  /**
   * The requested queues with no pause marker, in one read: a flag per queue, so each name is
   * compared by the column's own collation, as the claim compares it.
   */
  private async unpausedQueues(ex: Executor, queues: readonly string[]): Promise<string[]> {
    const b = this.builder();
    const flags = queues.map((q, i) => `EXISTS (SELECT 1 FROM ${this.t} WHERE state = 'paused' AND queue = ${b.p(q)}) AS p${i}`);
    const [row] = await ex.query(`SELECT ${flags.join(', ')}`, b.params);
    return queues.filter((_, i) => Number(row?.[`p${i}`]) !== 1);
  }

  /**
   * The ids to claim, locked with SKIP LOCKED. For one queue the claim index yields them in
   * order and InnoDB locks only the rows the LIMIT takes. Several queues cannot be read in order
   * from that index (its second column is the queue): one ordered read sorts every due row of
   * them all and locks each row it read before the sort, so a concurrent claim over the same
   * queues found nothing. Instead each queue gives its own first `limit` rows, and the union
   * keeps the first `limit` of those: at most `limit` rows per queue are locked, for the length
   * of the statement.
   */
  private pickSql(b: SqlBuilder, queues: readonly string[], p: ClaimParams): string {
    const one = (queue: string, cols: string): string =>
      `SELECT ${cols} FROM ${this.t} WHERE state = 'available' AND queue = ${b.p(queue)} AND run_at <= ${b.now(p.now)} ` +
      `ORDER BY priority, run_at, id LIMIT ${p.limit} FOR UPDATE SKIP LOCKED`;
    if (queues.length === 1) return one(queues[0]!, 'id');
    // Every claim locks the queues in one order (sorted): two claims over the same queues listed
    // in different orders took their locks in opposite orders and deadlocked (seen under
    // REPEATABLE READ).
    const parts = [...queues].sort().map((q) => `(${one(q, 'id, priority, run_at')})`);
    return `SELECT id FROM (${parts.join(' UNION ALL ')}) AS per_queue ORDER BY priority, run_at, id LIMIT ${p.limit}`;
  }

  async rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    const b = this.builder();
    const set = this.rescueSet(b, errorJson, now);
    const sql = `UPDATE ${this.t} SET ${set} WHERE ${this.expiredWhere(b, now)} ORDER BY lease_expires_at LIMIT ${limit}`;
    // Its range scan over `running` rows can deadlock with a claim writing leases there (seen at
    // a worker's start, when both run at once); a rolled-back victim changed nothing, so run it again.
    return retryDeadlock(() => db.autocommit.execute(sql, b.params));
  }

  async prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    const b = this.builder();
    // Single-table DELETE takes ORDER BY and LIMIT directly on MariaDB.
    return retryDeadlock(() => db.autocommit.execute(`DELETE FROM ${this.t} WHERE ${this.pruneWhere(b, p)} ORDER BY id LIMIT ${p.limit}`, b.params));
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

  /**
   * The table's index on `(state, id)` (migration 0003, under whatever name an ORM gave it),
   * looked up once: a hint naming an index that does not exist is an error, and a table may not
   * have 0003 yet. A failed look-up means no hint and is not remembered; `again` looks again
   * (after a statement naming the index failed: it was dropped or renamed since). An index
   * added after the first look-up is used from the next process start.
   */
  protected override seekIndex(): (ex: Executor, again?: boolean) => Promise<string | null> {
    let found: Promise<string | null> | null = null;
    const { schema, name } = this.tableParts();
    const lookUp = async (ex: Executor): Promise<string | null> => {
      const rows = await ex.query(
        'SELECT index_name AS i FROM information_schema.statistics WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ' +
          "GROUP BY index_name HAVING MAX(CASE WHEN seq_in_index = 1 THEN column_name END) = 'state' " +
          "AND MAX(CASE WHEN seq_in_index = 2 THEN column_name END) = 'id' ORDER BY COUNT(*), index_name LIMIT 1",
        [schema, name],
      );
      const index = rows[0]?.['i'];
      return index === undefined || index === null ? null : `\`${String(index).replaceAll('`', '``')}\``;
    };
    return (ex, again = false) => {
      if (again) found = null;
      found ??= lookUp(ex).catch(() => {
        found = null;
        return null;
      });
      return found;
    };
  }

  protected async listColumns(ex: Executor): Promise<string[]> {
    const { schema, name } = this.tableParts();
    const rows = await ex.query(
      'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
      [schema, name],
    );
    return rows.map((r) => String(r['c']));
  }
}
