/**
 * MikroORM adapter (v7, SQL drivers): enqueue with the forked EntityManager that
 * `em.transactional(async (tem) => …)` hands you.
 *
 * MikroORM interpolates `?` placeholders client-side (`platform.formatQuery`) and sends one
 * string: Concordia's SQL never contains a literal `?`, and its parameters are only strings,
 * numbers and null, which each platform quotes as literals.
 *
 * @module concordia/mikro-orm
 */
import type { EntityManager, MikroORM, Transaction } from '@mikro-orm/core';
import type { Pool } from 'pg';
import { pgAdapter } from '../pg/pg-adapter.ts';
import { NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

type SqlDialectName = Exclude<DialectName, 'memory'>;
type Connection = ReturnType<EntityManager['getConnection']>;

function dialectOf(em: EntityManager): SqlDialectName {
  // The platform class names the database; the driver packages do not share a base to test with.
  const name = em.getPlatform().constructor.name;
  if (/^PostgreSql/i.test(name)) return 'postgres';
  if (/^(MariaDb|MySql)/i.test(name)) return 'mysql';
  // v6 also had BetterSqlitePlatform (@mikro-orm/better-sqlite) and LibSqlPlatform.
  if (/^(BetterSqlite|Sqlite|LibSql)/i.test(name)) return 'sqlite';
  throw new UnknownDialectError(`mikroOrmAdapter: unsupported MikroORM platform "${name}" (supported: postgresql, mariadb, sqlite).`);
}

/**
 * An executor on `conn`. `ctx` is the transaction to run in; without one the statement runs on
 * the pool and autocommits, which is only right for the dispatcher's own statements.
 */
function executorFor(dialect: SqlDialectName, conn: Connection, ctx: Transaction | undefined): Executor {
  return defineExecutor({
    dialect,
    placeholders: 'question',
    query: async (sql, params) => (await conn.execute(sql, params as SqlParam[], 'all', ctx)) as SqlRow[],
    // 'run' is the only method that reports a count (`affectedRows`); 'all' would answer [].
    execute: async (sql, params) => toCount(((await conn.execute(sql, params as SqlParam[], 'run', ctx)) as { affectedRows?: unknown }).affectedRows),
  });
}

function isOrm(x: MikroORM | EntityManager): x is MikroORM {
  return 'em' in x && typeof (x as MikroORM).close === 'function';
}

/**
 * Creates the MikroORM adapter from the `MikroORM` instance or its root `EntityManager`. The
 * dispatcher runs its statements and short transactions on the ORM's own connection pool.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: mikroOrmAdapter(orm), jobs: [sendEmail] });
 * await orm.em.fork().transactional(async (tem) => {
 *   const order = tem.create(Order, { total: 42 });
 *   await tem.flush();
 *   await jobs.enqueue(tem, sendEmail({ orderId: order.id }));
 * });
 * ```
 */
export function mikroOrmAdapter(ormOrEm: MikroORM | EntityManager): SqlAdapter<EntityManager> {
  const root = isOrm(ormOrEm) ? ormOrEm.em : ormOrEm;
  const dialect = dialectOf(root);
  const conn = root.getConnection('write');
  const autocommit = executorFor(dialect, conn, undefined);
  return {
    name: 'mikro-orm',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(em) {
      if (!em || typeof (em as Partial<EntityManager>).isInTransaction !== 'function') {
        throw new NotInTransactionError('mikroOrmAdapter: enqueue() needs the EntityManager of em.transactional(async (tem) => …).');
      }
      const ctx = em.isInTransaction() ? em.getTransactionContext() : undefined;
      if (!ctx) {
        // Typically the outer `em` instead of the `tem` fork: its statements would run on the pool.
        throw new NotInTransactionError(
          'mikroOrmAdapter: this EntityManager is not inside a transaction. Pass the `tem` of em.transactional(async (tem) => …), ' +
            'not the outer em, or use jobs.enqueueAutocommit().',
        );
      }
      // A `tem` kept past its callback still carries its transaction, now finished: a Kysely
      // transaction (v7) says so with isCommitted/isRolledBack, a Knex one (v6) with isCompleted().
      const done = ctx as { isCommitted?: unknown; isRolledBack?: unknown; isCompleted?: unknown };
      if (done.isCommitted === true || done.isRolledBack === true || (typeof done.isCompleted === 'function' && done.isCompleted() === true)) {
        throw new NotInTransactionError('mikroOrmAdapter: this transaction has already committed or rolled back.');
      }
      // Always hand the transaction context along: execute() without it silently leaves the transaction.
      return executorFor(dialect, em.getConnection('write'), ctx);
    },
    autocommit: () => autocommit,
    // MikroORM 7's PostgreSqlConnection exposes its node-postgres pool (v6 has no such method, so
    // there the worker just polls): LISTEN borrows one session from it, as the pg adapter does.
    ...(dialect === 'postgres' && typeof (conn as { getNativeClient?: unknown }).getNativeClient === 'function'
      ? {
          async listen(channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void) {
            const pool = await (conn as unknown as { getNativeClient(): Promise<Pool> }).getNativeClient();
            return pgAdapter(pool).listen!(channel, onNotification, onError);
          },
        }
      : {}),
    transaction: (fn) =>
      conn.transactional(
        (trx) => fn(executorFor(dialect, conn, trx)),
        // On MariaDB the dispatcher reads committed data only: a REPEATABLE READ snapshot would add
        // gap locks that collide with users' inserts. SQLite serializes on MikroORM's one connection.
        dialect === 'mysql' ? { isolationLevel: 'read committed' } : {},
      ),
    // A fresh fork per job: the handler gets its own identity map inside the transaction.
    userTransaction: (fn) => root.fork().transactional((tem) => fn(tem)),
  };
}
