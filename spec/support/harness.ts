/**
 * One harness per adapter × database: everything the conformance suite needs to drive an
 * adapter through its own transaction API and to look at the table from the outside.
 */
import type { Adapter, Executor } from '../../lib/sql/executor.ts';
import { mysqlFlavor } from '../../lib/dialects/mysql-dialect.ts';
import { postgresFlavor } from '../../lib/dialects/postgres-dialect.ts';
import { sqliteFlavor } from '../../lib/dialects/sqlite-dialect.ts';
import type { SqlFlavor } from '../../lib/dialects/sql-dialect.ts';
import { ddl, tableParts, type Db } from './databases.ts';

/** A job row as the suite inspects it. */
export interface JobRowView {
  id: string;
  queue: string;
  kind: string;
  state: string;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAtMs: number;
  finalizedAtMs: number | null;
  leaseToken: string | null;
  lockedBy: string | null;
  errors: { attempt?: number; message: string; reason?: string }[] | null;
  metadata: unknown;
  args: unknown;
}

export interface Harness<Tx = unknown> {
  /** e.g. `knex/postgres`. */
  readonly name: string;
  readonly db: Db | 'memory' | 'redis' | 'dynamodb' | 'firestore';
  readonly adapter: Adapter<Tx>;
  readonly table: string;
  /** Runs `fn` in a transaction of the ORM's own API: commit on resolve, rollback on throw. */
  inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A business write (a row in the orders table) inside the caller's transaction. */
  insertOrder(tx: Tx, id: number): Promise<void>;
  /** Order ids committed so far, read from outside. */
  orderIds(): Promise<number[]>;
  /** A handle of the ORM that is not inside a transaction (for misuse tests). */
  notInTransaction(): unknown;
  /** Every job row, read from outside. */
  rows(): Promise<JobRowView[]>;
  /** Makes a running job's lease look expired, as if its worker died. */
  expireLease(id: string): Promise<void>;
  /** Inserts a row into queue `corrupt` directly, bypassing enqueue's checks (corrupt-row tests). */
  insertRaw(row: { kind: string; argsJson: string }): Promise<string>;
  /**
   * Makes the next id the table hands out at least `next` (a decimal string: ids past 2^53 are
   * not JS numbers), as a table that has been in service long enough would. SQL databases only.
   */
  bumpIds?(next: string): Promise<void>;
  /**
   * Ends, from the server's side, the connections listening for this table's wake-ups (where
   * the harness knows how without raw SQL); returns how many it ended.
   */
  killListeners?(): Promise<number>;
  /**
   * Stop the workers each conformance test started when it ends, instead of when the file ends:
   * for stores too slow to serve dozens of idle workers polling every 20 ms (the Firestore emulator).
   */
  stopWorkersAfterEach?: boolean;
  /**
   * Jobs in the suite's many-dispatchers exactly-once test (default 5,000). The emulators, which
   * serialise writes, take 25-50 s for 5,000 in a test run that runs files one at a time; a
   * thousand still has four dispatchers racing for every job.
   */
  raceJobs?: number;
  /** Drops a column from a scratch copy check: runs raw DDL (SQL databases only). */
  raw?: Executor;
  close(): Promise<void>;
}

const flavors: Record<Db, SqlFlavor> = { postgres: postgresFlavor, mysql: mysqlFlavor, sqlite: sqliteFlavor };

/** Ids read as decimal text by the outside view itself (independent of the dialect under test). */
const idTextOf: Record<Db, (col: string) => string> = {
  postgres: (col) => `${col}::text`,
  mysql: (col) => `CAST(${col} AS CHAR)`,
  sqlite: (col) => `CAST(${col} AS TEXT)`,
};

function num(v: unknown): number {
  return Number(v);
}

/** Parsed JSON, or the raw text when a corrupt-row test wrote something that is not JSON. */
function json(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/**
 * The outside view shared by every SQL harness: `inspect` is an independent connection. A
 * schema-qualified `table` (`schema.table`, PostgreSQL and MariaDB) gets its schema created at
 * setup (on MariaDB a schema is a database) and dropped with everything in it at teardown, so
 * its name must be fresh (see qualifiedTable()); the orders table lives beside the jobs table.
 */
export function sqlInspection(db: Db, table: string, inspect: Executor) {
  const f = flavors[db];
  const idText = idTextOf[db];
  const t = f.quote(table);
  const orders = f.quote(`${table}_orders`);
  const { schema } = tableParts(table);
  if (schema !== null && db === 'sqlite') throw new Error('sqlInspection: no schema-qualified tables on SQLite');
  const ownSchema = schema === null ? null : f.quote(schema);
  const dropSchema = (quoted: string) => inspect.execute(db === 'postgres' ? `DROP SCHEMA IF EXISTS ${quoted} CASCADE` : `DROP DATABASE IF EXISTS ${quoted}`, []);
  return {
    async setup(): Promise<void> {
      if (ownSchema === null) {
        for (const stmt of ddl(db, table)) await inspect.execute(stmt, []);
        await inspect.execute(`CREATE TABLE ${orders} (id INTEGER PRIMARY KEY)`, []);
        return;
      }
      await inspect.execute(db === 'postgres' ? `CREATE SCHEMA ${ownSchema}` : `CREATE DATABASE ${ownSchema}`, []);
      try {
        for (const stmt of ddl(db, table)) await inspect.execute(stmt, []);
        await inspect.execute(`CREATE TABLE ${orders} (id INTEGER PRIMARY KEY)`, []);
      } catch (error) {
        // No harness is handed out, so nobody would close it: drop the schema here.
        await dropSchema(ownSchema).catch(() => {});
        throw error;
      }
    },
    async teardown(): Promise<void> {
      if (ownSchema !== null) {
        await dropSchema(ownSchema);
        return;
      }
      await inspect.execute(`DROP TABLE IF EXISTS ${t}`, []);
      await inspect.execute(`DROP TABLE IF EXISTS ${orders}`, []);
    },
    insertOrderSql: `INSERT INTO ${orders} (id) VALUES (?)`,
    async orderIds(): Promise<number[]> {
      return (await inspect.query(`SELECT id FROM ${orders} ORDER BY id`, [])).map((r) => num(r['id']));
    },
    async rows(): Promise<JobRowView[]> {
      const rows = await inspect.query(
        `SELECT ${idText('id')} AS id, queue, kind, state, priority, attempt, max_attempts, lease_token, locked_by, ` +
          `${f.timeMs('run_at')} AS run_at_ms, ${f.timeMs('finalized_at')} AS finalized_at_ms, ` +
          `${f.jsonText('errors')} AS errors, ${f.jsonText('metadata')} AS metadata, ${f.jsonText('args')} AS args FROM ${t} ORDER BY ${t}.id`,
        [],
      );
      return rows.map((r) => ({
        id: String(r['id']),
        queue: String(r['queue']),
        kind: String(r['kind']),
        state: String(r['state']),
        priority: num(r['priority']),
        attempt: num(r['attempt']),
        maxAttempts: num(r['max_attempts']),
        runAtMs: num(r['run_at_ms']),
        finalizedAtMs: r['finalized_at_ms'] === null ? null : num(r['finalized_at_ms']),
        leaseToken: (r['lease_token'] as string | null) ?? null,
        lockedBy: (r['locked_by'] as string | null) ?? null,
        errors: json(r['errors']) as JobRowView['errors'],
        metadata: json(r['metadata']),
        args: json(r['args']),
      }));
    },
    async expireLease(id: string): Promise<void> {
      // created_at is always in the past: a lease that expired then is long gone.
      await inspect.execute(`UPDATE ${t} SET lease_expires_at = created_at WHERE id = ?`, [id]);
    },
    async insertRaw(row: { kind: string; argsJson: string }): Promise<string> {
      const now = new Date();
      const rows = await inspect.query(
        `INSERT INTO ${t} (queue, kind, args, run_at, created_at) VALUES ('corrupt', ?, ${f.jsonPlaceholder}, ${f.timePlaceholder}, ${f.timePlaceholder}) RETURNING ${idText('id')} AS id`,
        [row.kind, row.argsJson, f.encodeTime(now), f.encodeTime(now)],
      );
      return String(rows[0]?.['id']);
    },
    async bumpIds(next: string): Promise<void> {
      if (!/^[1-9]\d{0,18}$/.test(next)) throw new Error(`bumpIds: not an id: ${next}`);
      // Inlined as literals (checked digits above): a bound JS number would round past 2^53.
      const last = (BigInt(next) - 1n).toString();
      if (db === 'postgres') {
        await inspect.query(`SELECT setval(pg_get_serial_sequence(?, 'id'), ${last})`, [t]);
      } else if (db === 'mysql') {
        await inspect.execute(`ALTER TABLE ${t} AUTO_INCREMENT = ${next}`, []);
      } else {
        // An explicit id moves the table's counter (sqlite_sequence under AUTOINCREMENT, the
        // largest rowid otherwise). Under AUTOINCREMENT the filler row can go again.
        const now = Date.now();
        await inspect.execute(
          `INSERT INTO ${t} (id, queue, kind, args, state, run_at, created_at, finalized_at) ` +
            `VALUES (${last}, 'id_filler', 'id_filler', '{}', 'completed', ${now}, ${now}, ${now})`,
          [],
        );
        const seq = await inspect.query(`SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'`, []);
        if (seq.length > 0 && (await inspect.query(`SELECT seq FROM sqlite_sequence WHERE name = ?`, [table])).length > 0) {
          await inspect.execute(`DELETE FROM ${t} WHERE id = ${last}`, []);
        }
      }
    },
  };
}

/**
 * The {@link Harness} members every SQL harness takes straight from its outside view and its
 * inspector connection, with a close() that drops the test tables (`teardown`, by default the
 * view's), closes the inspector, then closes what the harness opened (`closeOwn`).
 */
export function inspectedMembers(
  view: ReturnType<typeof sqlInspection>,
  ins: { ex: Executor; close(): Promise<void> },
  closeOwn: () => unknown,
  teardown: () => Promise<unknown> = () => view.teardown(),
): Pick<Harness, 'orderIds' | 'rows' | 'expireLease' | 'insertRaw' | 'bumpIds' | 'raw' | 'close'> {
  return {
    orderIds: view.orderIds,
    bumpIds: view.bumpIds,
    rows: view.rows,
    expireLease: view.expireLease,
    insertRaw: view.insertRaw,
    raw: ins.ex,
    async close() {
      await teardown();
      await ins.close();
      await closeOwn();
    },
  };
}
