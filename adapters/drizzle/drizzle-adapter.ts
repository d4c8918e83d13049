/**
 * Drizzle adapter: enqueue with the `tx` of `db.transaction(…)` on node-postgres, mysql2
 * (MariaDB) and better-sqlite3.
 *
 * Drizzle's better-sqlite3 transactions are synchronous functions: an `async` callback makes
 * Drizzle throw ("Transaction function cannot return a promise"). Inside
 * `db.transaction((tx) => …)` call `jobs.enqueueSync(tx, …)`; the async `jobs.enqueue(tx, …)` is
 * refused there with a {@link StateError}, because nothing could await it before Drizzle commits.
 * The async `enqueue` works with the Drizzle `db` itself between a manual `BEGIN` and `COMMIT`.
 *
 * @module concordia/drizzle
 */
import { is, sql, type SQL } from 'drizzle-orm';
import { MySqlDatabase, MySqlDialect, MySqlTransaction } from 'drizzle-orm/mysql-core';
import { PgDatabase, PgDialect, PgTransaction } from 'drizzle-orm/pg-core';
import { BaseSQLiteDatabase, SQLiteSyncDialect, SQLiteTransaction } from 'drizzle-orm/sqlite-core';
import { NotInTransactionError, StateError, UnknownDialectError } from '../../lib/errors.ts';
import { asErrorEmitter, guardConnection, type ErrorEmitter } from '../../lib/sql/connection-guard.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the adapter accepts a Drizzle database of any schema and driver. */
/** A Drizzle database or transaction on node-postgres, mysql2 or better-sqlite3. */
export type DrizzleDatabase = PgDatabase<any, any, any> | MySqlDatabase<any, any, any, any> | BaseSQLiteDatabase<'sync', any, any, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

type SqlDb = Exclude<DialectName, 'memory'>;

/** Drizzle keeps the dialect on a protected field; it is how Drizzle itself tells databases apart. */
function dialectOf(handle: unknown): SqlDb {
  const d = (handle as { dialect?: unknown } | null)?.dialect;
  if (is(d, PgDialect)) return 'postgres';
  if (is(d, MySqlDialect)) return 'mysql';
  if (is(d, SQLiteSyncDialect)) return 'sqlite';
  const name = String((d as { constructor?: { name?: unknown } } | undefined)?.constructor?.name ?? 'unknown');
  throw new UnknownDialectError(
    `drizzleAdapter: unsupported Drizzle dialect ${name} (supported: node-postgres, mysql2, better-sqlite3; async SQLite drivers are not).`,
  );
}

/**
 * Turns Concordia's `?`-placeholder SQL into a Drizzle `SQL` object, so Drizzle writes the
 * driver's own placeholders and binds the values itself. Concordia's SQL has no literal `?`.
 */
function toDrizzleSql(text: string, params: readonly SqlParam[]): SQL {
  const parts = text.split('?');
  if (parts.length - 1 !== params.length) {
    throw new StateError(`drizzleAdapter: ${parts.length - 1} placeholders but ${params.length} parameters.`);
  }
  const chunks: SQL[] = [sql.raw(parts[0]!)];
  for (let i = 0; i < params.length; i++) chunks.push(sql`${params[i]}`, sql.raw(parts[i + 1]!));
  return sql.join(chunks);
}

/** node-postgres `Result`, or mysql2's `[rows | ResultSetHeader, fields]`. */
function rowsOf(result: unknown): SqlRow[] {
  if (Array.isArray(result)) return Array.isArray(result[0]) ? (result[0] as SqlRow[]) : [];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as SqlRow[]) : [];
}

function countOf(result: unknown): number {
  if (Array.isArray(result)) return toCount((result[0] as { affectedRows?: unknown } | undefined)?.affectedRows);
  return toCount((result as { rowCount?: unknown } | null)?.rowCount);
}

interface AsyncRunner {
  execute(query: SQL): Promise<unknown>;
}

interface SyncRunner {
  all(query: SQL): unknown;
  run(query: SQL): unknown;
}

function asyncExecutor(runner: AsyncRunner, dialect: 'postgres' | 'mysql'): Executor {
  return defineExecutor({
    dialect,
    // Drizzle numbers the parameters itself ($1 on PostgreSQL), so hand it `?` text.
    placeholders: 'question',
    query: async (text, params) => rowsOf(await runner.execute(toDrizzleSql(text, params))),
    execute: async (text, params) => countOf(await runner.execute(toDrizzleSql(text, params))),
  });
}

/**
 * better-sqlite3 answers synchronously. `asyncAllowed` is false for the `tx` of a synchronous
 * `db.transaction()`: an async insert there could not be awaited before Drizzle commits.
 */
function sqliteExecutor(runner: SyncRunner, asyncAllowed: boolean): Executor {
  const sync = {
    query: (text: string, params: readonly SqlParam[]) => runner.all(toDrizzleSql(text, params)) as SqlRow[],
    execute: (text: string, params: readonly SqlParam[]) => toCount((runner.run(toDrizzleSql(text, params)) as { changes?: unknown }).changes),
  };
  const refuse = async (): Promise<never> => {
    throw new StateError(
      'drizzleAdapter: Drizzle transactions on better-sqlite3 are synchronous, so an async enqueue() cannot run inside db.transaction(). ' +
        'Call jobs.enqueueSync(tx, …) there, or enqueue() on the Drizzle db between a manual BEGIN and COMMIT.',
    );
  };
  return defineExecutor({
    dialect: 'sqlite',
    placeholders: 'question',
    query: asyncAllowed ? async (text, params) => sync.query(text, params) : refuse,
    execute: asyncAllowed ? async (text, params) => sync.execute(text, params) : refuse,
    sync,
  });
}

/** The better-sqlite3 `Database` under a Drizzle SQLite handle (Drizzle keeps it on the session). */
function sqliteClientOf(handle: unknown): { inTransaction: boolean } | undefined {
  return (handle as { session?: { client?: { inTransaction: boolean } } } | null)?.session?.client;
}

/**
 * Creates the Drizzle adapter. The dispatcher runs its statements through `db` (Drizzle's pool,
 * or the one better-sqlite3 connection, which it shares with the application the way the
 * better-sqlite3 adapter does).
 *
 * @example
 * ```ts
 * const db = drizzle({ client: pool });
 * const jobs = createJobs({ adapter: drizzleAdapter(db), jobs: [sendEmail] });
 * await db.transaction(async (tx) => {
 *   const [order] = await tx.insert(orders).values({ total: 42 }).returning();
 *   await jobs.enqueue(tx, sendEmail({ orderId: String(order!.id) }));
 * });
 * // better-sqlite3: the transaction is synchronous
 * sqliteDb.transaction((tx) => {
 *   tx.insert(orders).values({ total: 42 }).run();
 *   jobs.enqueueSync(tx, sendEmail({ orderId: '1' }));
 * });
 * ```
 */
export function drizzleAdapter(db: DrizzleDatabase): SqlAdapter<DrizzleDatabase> {
  const dialect = dialectOf(db);
  if (dialect === 'sqlite') return sqliteAdapter(db as BaseSQLiteDatabase<'sync', unknown>);
  const autocommit = asyncExecutor(db as unknown as AsyncRunner, dialect);
  const txClass = dialect === 'postgres' ? PgTransaction : MySqlTransaction;
  return {
    name: 'drizzle',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(tx) {
      // On a pool the root db autocommits each statement on whichever connection is free.
      if (!is(tx, txClass)) {
        throw new NotInTransactionError(
          'drizzleAdapter: enqueue() needs the `tx` of db.transaction(async (tx) => …), not the Drizzle db. ' +
            'Outside a transaction use jobs.enqueueAutocommit().',
        );
      }
      return asyncExecutor(tx as unknown as AsyncRunner, dialect);
    },
    autocommit: () => autocommit,
    // Both guarded: a server that ends the connection mid-transaction must not crash the process.
    transaction: (fn) => guardConnection((body) => transactionOf(db)(body), connectionOf, (tx) => fn(asyncExecutor(tx as unknown as AsyncRunner, dialect))),
    userTransaction: (fn) => guardConnection((body) => transactionOf(db)(body), connectionOf, fn),
  };
}

/** `db.transaction`, bound (Drizzle's per-driver signatures share no callable type). */
function transactionOf(db: DrizzleDatabase): <T>(body: (tx: DrizzleDatabase) => Promise<T>) => Promise<T> {
  const d = db as unknown as { transaction<T>(f: (tx: DrizzleDatabase) => Promise<T>): Promise<T> };
  return (body) => d.transaction(body);
}

/**
 * The driver connection under a Drizzle transaction: Drizzle keeps it on the session
 * (`tx.session.client`: the `PoolClient` it checked out on node-postgres, where it adds no
 * 'error' listener; the mysql2 connection on MySQL).
 */
function connectionOf(tx: unknown): ErrorEmitter | undefined {
  return asErrorEmitter((tx as { session?: { client?: unknown } } | null)?.session?.client);
}

function sqliteAdapter(db: BaseSQLiteDatabase<'sync', unknown>): SqlAdapter<DrizzleDatabase> {
  const client = sqliteClientOf(db);
  const own = sqliteExecutor(db, true);
  return {
    name: 'drizzle',
    dialect: 'sqlite',
    backend: (options) => sqlDialect('sqlite', options),
    bind(handle) {
      if (!is(handle, BaseSQLiteDatabase) || sqliteClientOf(handle) !== client) {
        throw new NotInTransactionError('drizzleAdapter: pass a transaction of the Drizzle db the adapter was created with.');
      }
      // SQLite has one connection here, so its own flag says whether a transaction is open:
      // it covers db.transaction() as well as a manual BEGIN, and a tx used after it finished.
      if (!client?.inTransaction) {
        throw new NotInTransactionError(
          'drizzleAdapter: the better-sqlite3 connection is not inside a transaction. Call jobs.enqueueSync(tx, …) inside db.transaction((tx) => …), ' +
            'or use jobs.enqueueAutocommit().',
        );
      }
      return is(handle, SQLiteTransaction) ? sqliteExecutor(handle as unknown as SyncRunner, false) : own;
    },
    autocommit: () => own,
    async transaction(fn, options) {
      if (client?.inTransaction) throw new NotInTransactionError('drizzleAdapter: a transaction is already open on this connection.');
      // db.transaction() cannot await `fn`; a manual BEGIN on the same connection can.
      db.run(sql.raw(options?.immediate === false ? 'BEGIN' : 'BEGIN IMMEDIATE'));
      try {
        const out = await fn(own);
        db.run(sql.raw('COMMIT'));
        return out;
      } catch (error) {
        if (client?.inTransaction) db.run(sql.raw('ROLLBACK'));
        throw error;
      }
    },
  };
}
