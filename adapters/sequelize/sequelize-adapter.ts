/**
 * Sequelize 6 adapter: enqueue with the `t` of `sequelize.transaction(async (t) => …)`.
 *
 * Every statement passes `transaction` explicitly: a Sequelize query without it runs on another
 * pooled connection, outside your transaction (unless CLS is set up), which would be a silent
 * dual write.
 *
 * @module concordia/sequelize
 */
import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import { NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

type SqlDb = Exclude<DialectName, 'memory'>;

function dialectOf(sequelize: Sequelize): SqlDb {
  const d = sequelize.getDialect();
  if (d === 'postgres') return 'postgres';
  if (d === 'mysql' || d === 'mariadb') return 'mysql';
  if (d === 'sqlite') return 'sqlite';
  throw new UnknownDialectError(`sequelizeAdapter: unsupported Sequelize dialect "${d}" (supported: postgres, mariadb, mysql, sqlite).`);
}

/**
 * `transaction: null` (rather than leaving it out) keeps Sequelize from picking up a CLS
 * transaction for the dispatcher's own autocommitted statements.
 */
/**
 * Sequelize's SQLite dialect runs any SQL that starts with `insert into` through sqlite3's
 * `run()`, which returns no rows, so the rows of INSERT … RETURNING would be lost. A leading
 * comment makes it use `all()`, which returns them.
 */
function rowsQuery(dialect: SqlDb, sql: string): string {
  return dialect === 'sqlite' && /^\s*insert\s+into/i.test(sql) ? `/* returning rows */ ${sql}` : sql;
}

function executorFor(sequelize: Sequelize, dialect: SqlDb, transaction: Transaction | null): Executor {
  return defineExecutor({
    dialect,
    // `bind` takes $1, $2 … in the SQL for every dialect; Sequelize rewrites them for mysql/mariadb.
    placeholders: 'dollar',
    // An explicit type for every statement: without one the mariadb dialect throws on a SELECT,
    // and mysql loses the rows of INSERT … RETURNING. SELECT gives plain row arrays everywhere.
    query: async (sql, params) =>
      (await sequelize.query(rowsQuery(dialect, sql), { bind: [...params], transaction, type: QueryTypes.SELECT, raw: true })) as SqlRow[],
    // BULKUPDATE/BULKDELETE return the affected count as a number. On MySQL/MariaDB Sequelize
    // counts changed (not matched) rows; every update the engine counts changes a column.
    execute: async (sql, params) =>
      toCount(
        await sequelize.query(sql, {
          bind: [...params],
          transaction,
          type: /^\s*delete\b/i.test(sql) ? QueryTypes.BULKDELETE : QueryTypes.BULKUPDATE,
          raw: true,
        }),
      ),
  });
}

/**
 * Creates the Sequelize 6 adapter. The dispatcher runs its statements on `sequelize`'s own pool.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: sequelizeAdapter(sequelize), jobs: [sendEmail] });
 * await sequelize.transaction(async (t) => {
 *   const order = await Order.create({ total: 42 }, { transaction: t });
 *   await jobs.enqueue(t, sendEmail({ orderId: String(order.id) }));
 * });
 * ```
 */
export function sequelizeAdapter(sequelize: Sequelize): SqlAdapter<Transaction> {
  const dialect = dialectOf(sequelize);
  const autocommit = executorFor(sequelize, dialect, null);
  return {
    name: 'sequelize',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(t) {
      if (!(t instanceof Transaction)) {
        throw new NotInTransactionError(
          'sequelizeAdapter: enqueue() needs the `t` of sequelize.transaction(async (t) => …), not the Sequelize instance. ' +
            'Outside a transaction use jobs.enqueueAutocommit().',
        );
      }
      // A transaction of another Sequelize instance would run on that instance's pool.
      if ((t as unknown as { sequelize?: unknown }).sequelize !== sequelize) {
        throw new NotInTransactionError('sequelizeAdapter: this transaction belongs to another Sequelize instance.');
      }
      // Set to 'commit' or 'rollback' once the transaction has ended.
      if ((t as unknown as { finished?: unknown }).finished !== undefined) {
        throw new NotInTransactionError('sequelizeAdapter: this transaction has already committed or rolled back.');
      }
      return executorFor(sequelize, dialect, t);
    },
    autocommit: () => autocommit,
    transaction: (fn) => sequelize.transaction((t) => fn(executorFor(sequelize, dialect, t))),
    userTransaction: (fn) => sequelize.transaction((t) => fn(t)),
    afterCommit: (t, fn) => t.afterCommit(() => fn()),
  };
}
