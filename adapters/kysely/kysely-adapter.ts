/**
 * Kysely adapter: enqueue inside `db.transaction().execute(async (trx) => …)`.
 *
 * @module concordia/kysely
 */
import { CompiledQuery, type Kysely, type QueryResult, type Transaction } from 'kysely';
import { NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

type SqlDb = Exclude<DialectName, 'memory'>;

/** Anything that can run a compiled query: the Kysely instance, a transaction, a reserved connection. */
interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * Kysely's query adapters are per database and carry the database's name in their class name.
 * Subclassed adapters (custom dialects built on the stock ones) are found through the prototype chain.
 */
function dialectOf(db: Kysely<unknown>): SqlDb {
  const names: string[] = [];
  for (let proto: unknown = Object.getPrototypeOf(db.getExecutor().adapter); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    names.push(String((proto as { constructor?: { name?: unknown } }).constructor?.name ?? ''));
  }
  if (names.includes('PostgresAdapter')) return 'postgres';
  if (names.includes('MysqlAdapter')) return 'mysql';
  if (names.includes('SqliteAdapter')) return 'sqlite';
  throw new UnknownDialectError(
    `kyselyAdapter: unsupported Kysely dialect (query adapter ${names[0] ?? 'unknown'}; supported: PostgresDialect, MysqlDialect, SqliteDialect).`,
  );
}

function executorFor(runner: QueryRunner, dialect: SqlDb): Executor {
  return defineExecutor({
    dialect,
    // Kysely hands the SQL to the driver untouched, so it must already be in the driver's style.
    placeholders: dialect === 'postgres' ? 'dollar' : 'question',
    query: async (sql, params) => (await runner.executeQuery(CompiledQuery.raw(sql, [...params]))).rows as SqlRow[],
    // numAffectedRows is a bigint; on MySQL it counts matched rows (mysql2's affectedRows).
    execute: async (sql, params) => toCount((await runner.executeQuery(CompiledQuery.raw(sql, [...params]))).numAffectedRows),
  });
}

/**
 * Creates the Kysely adapter for a Kysely instance on `PostgresDialect` (pg), `MysqlDialect`
 * (mysql2, MariaDB 10.6+) or `SqliteDialect` (better-sqlite3). The dispatcher runs its own short
 * statements through `db`, so it shares Kysely's pool (or, on SQLite, its single connection).
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: kyselyAdapter(db), jobs: [sendEmail] });
 * await db.transaction().execute(async (trx) => {
 *   const order = await trx.insertInto('orders').values({ total: 42 }).returning('id').executeTakeFirstOrThrow();
 *   await jobs.enqueue(trx, sendEmail({ orderId: String(order.id) }));
 * });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database interface is fine: the adapter writes raw SQL.
export function kyselyAdapter<DB = any>(db: Kysely<DB>): SqlAdapter<Transaction<DB>> {
  const dialect = dialectOf(db as Kysely<unknown>);
  const autocommit = executorFor(db, dialect);
  return {
    name: 'kysely',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(trx) {
      // `isTransaction` is true only on the handle of db.transaction().execute(…) (and of a
      // controlled transaction): the root instance would autocommit each statement on the pool.
      if (!trx || typeof (trx as { executeQuery?: unknown }).executeQuery !== 'function' || (trx as { isTransaction?: unknown }).isTransaction !== true) {
        throw new NotInTransactionError(
          'kyselyAdapter: enqueue() needs the `trx` of db.transaction().execute(async (trx) => …), not the Kysely instance. ' +
            'Outside a transaction use jobs.enqueueAutocommit().',
        );
      }
      // A controlled transaction (db.startTransaction()) stays an object after it ends.
      const state = trx as { isCommitted?: unknown; isRolledBack?: unknown };
      if (state.isCommitted === true || state.isRolledBack === true) {
        throw new NotInTransactionError('kyselyAdapter: this transaction has already committed or rolled back.');
      }
      return executorFor(trx, dialect);
    },
    userTransaction: (fn) => db.transaction().execute((trx) => fn(trx)),
    autocommit: () => autocommit,
    transaction(fn, options) {
      if (dialect === 'sqlite' && options?.immediate !== false) {
        // Kysely's SQLite transactions start with a deferred BEGIN; take the write lock up front
        // on the reserved connection instead, so a read→write upgrade can never hit SQLITE_BUSY.
        return db.connection().execute(async (conn) => {
          await conn.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
          try {
            const out = await fn(executorFor(conn, dialect));
            await conn.executeQuery(CompiledQuery.raw('COMMIT'));
            return out;
          } catch (error) {
            await conn.executeQuery(CompiledQuery.raw('ROLLBACK')).catch(() => {});
            throw error;
          }
        });
      }
      return db.transaction().execute((trx) => fn(executorFor(trx, dialect)));
    },
  };
}
