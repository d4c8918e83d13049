/**
 * TypeORM adapter: enqueue with the `EntityManager` of `dataSource.transaction(async (em) => …)`,
 * or with a `QueryRunner` on which you called `startTransaction()`.
 *
 * @module concordia/typeorm
 */
import type { Pool } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { pgAdapter } from '../pg/pg-adapter.ts';
import { NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { asErrorEmitter, guardConnection, type ErrorEmitter } from '../../lib/sql/connection-guard.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

/** What `enqueue` accepts: the transactional manager, or a query runner inside a transaction. */
export type TypeormTransaction = EntityManager | QueryRunner;

type SqlDialectName = Exclude<DialectName, 'memory'>;

function dialectOf(dataSource: DataSource): SqlDialectName {
  const type = String(dataSource.options.type);
  if (type === 'postgres') return 'postgres';
  if (type === 'mariadb' || type === 'mysql') return 'mysql';
  if (type === 'better-sqlite3') return 'sqlite';
  throw new UnknownDialectError(`typeormAdapter: unsupported DataSource type "${type}" (supported: postgres, mariadb/mysql, better-sqlite3).`);
}

function isQueryRunner(tx: TypeormTransaction): tx is QueryRunner {
  return typeof (tx as Partial<QueryRunner>).startTransaction === 'function' && 'isTransactionActive' in tx;
}

/**
 * Every statement goes through `queryRunner.query(sql, params, true)`: the structured result
 * carries `affected` correctly on every driver, while plain `query()` returns a per-driver shape
 * (no count for a pg INSERT, `lastInsertRowid` for a better-sqlite3 UPDATE).
 */
function executorFor(dialect: SqlDialectName, run: (sql: string, params: SqlParam[]) => Promise<{ records: unknown[]; affected?: number | undefined }>): Executor {
  return defineExecutor({
    dialect,
    placeholders: dialect === 'postgres' ? 'dollar' : 'question',
    query: async (sql, params) => (await run(sql, params as SqlParam[])).records as SqlRow[],
    execute: async (sql, params) => toCount((await run(sql, params as SqlParam[])).affected),
  });
}

/** The driver connection a transaction's runner holds (pg client, mysql2 pool connection). */
function connectionOf(em: EntityManager): ErrorEmitter | undefined {
  return asErrorEmitter((em.queryRunner as { databaseConnection?: unknown } | undefined)?.databaseConnection);
}

function onRunner(dialect: SqlDialectName, qr: QueryRunner): Executor {
  return executorFor(dialect, (sql, params) => qr.query(sql, params, true));
}

/**
 * TypeORM's better-sqlite3 driver has one connection and one shared QueryRunner for the whole
 * DataSource, with no lock around transactions. A dispatcher statement sent while a user's
 * transaction is open would run inside it (and vanish with its rollback), so the dispatcher
 * waits until that runner is out of its transaction. Polling: TypeORM has no event for it short
 * of a global subscriber.
 */
async function sqliteIdle(dataSource: DataSource): Promise<QueryRunner> {
  const qr = dataSource.createQueryRunner();
  while (qr.isTransactionActive) await new Promise((r) => setTimeout(r, 2));
  return qr;
}

function pgListen(pool: Pool, channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void) {
  return pgAdapter(pool).listen!(channel, onNotification, onError);
}

/**
 * Creates the TypeORM adapter for an initialized `DataSource` (postgres, mariadb/mysql or
 * better-sqlite3). The dispatcher runs on the DataSource's own pool.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: typeormAdapter(dataSource), jobs: [sendEmail] });
 * await dataSource.transaction(async (em) => {
 *   const order = await em.save(Order, { total: 42 });
 *   await jobs.enqueue(em, sendEmail({ orderId: order.id }));
 * });
 * ```
 */
export function typeormAdapter(dataSource: DataSource): SqlAdapter<TypeormTransaction> {
  const dialect = dialectOf(dataSource);

  const autocommit =
    dialect === 'sqlite'
      ? executorFor(dialect, async (sql, params) => (await sqliteIdle(dataSource)).query(sql, params, true))
      : executorFor(dialect, async (sql, params) => {
          // A fresh runner takes a pooled connection for one statement and gives it back.
          const qr = dataSource.createQueryRunner();
          try {
            return await qr.query(sql, params, true);
          } finally {
            await qr.release();
          }
        });

  return {
    name: 'typeorm',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(tx) {
      if (!tx || typeof tx !== 'object') {
        throw new NotInTransactionError('typeormAdapter: enqueue() needs the EntityManager of dataSource.transaction(async (em) => …).');
      }
      const qr = isQueryRunner(tx) ? tx : tx.queryRunner;
      if (!qr?.isTransactionActive) {
        // dataSource.manager has no runner at all; each of its calls would autocommit.
        throw new NotInTransactionError(
          'typeormAdapter: this EntityManager/QueryRunner is not inside a transaction. Pass the `em` of dataSource.transaction(async (em) => …) ' +
            '(or a QueryRunner after startTransaction()), or use jobs.enqueueAutocommit().',
        );
      }
      if (qr.isReleased) throw new NotInTransactionError('typeormAdapter: this QueryRunner has been released.');
      return onRunner(dialect, qr);
    },
    // TypeORM listens on its pg client and, on a connection the server ended, releases the
    // runner at once; the job would then be recorded with the refusal of the released runner
    // rather than why. The guard keeps the server's reason (and covers drivers TypeORM leaves bare).
    userTransaction: (fn) => guardConnection((body) => dataSource.transaction(body), connectionOf, fn),
    autocommit: () => autocommit,
    // PostgresDriver keeps its node-postgres pool in `master`: LISTEN borrows one session from it,
    // exactly as the pg adapter does.
    ...(dialect === 'postgres'
      ? { listen: (channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void) => pgListen((dataSource.driver as unknown as { master: Pool }).master, channel, onNotification, onError) }
      : {}),
    async transaction(fn, options) {
      if (dialect === 'sqlite') {
        const qr = await sqliteIdle(dataSource);
        // Raw BEGIN IMMEDIATE rather than startTransaction(): TypeORM only issues a deferred BEGIN,
        // and a deferred read→write upgrade can fail with SQLITE_BUSY without waiting.
        await qr.query(options?.immediate === false ? 'BEGIN' : 'BEGIN IMMEDIATE');
        try {
          const out = await fn(onRunner(dialect, qr));
          await qr.query('COMMIT');
          return out;
        } catch (error) {
          await qr.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }
      const qr = dataSource.createQueryRunner();
      try {
        // On MariaDB the dispatcher reads committed data only: a REPEATABLE READ snapshot would
        // add gap locks that collide with users' inserts. PostgreSQL's default already is.
        await qr.startTransaction(dialect === 'mysql' ? 'READ COMMITTED' : undefined);
        try {
          const out = await fn(onRunner(dialect, qr));
          await qr.commitTransaction();
          return out;
        } catch (error) {
          if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => {});
          throw error;
        }
      } finally {
        await qr.release();
      }
    },
  };
}
