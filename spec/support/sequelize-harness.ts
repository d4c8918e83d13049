/**
 * Sequelize 6 harness: the jobs table is created by Concordia's queryInterface migration (not
 * the canonical SQL), the orders table by `Model.sync()`. MariaDB runs through the `mariadb`
 * dialect by default (the `mysql` dialect, on mysql2, can be asked for). SQLite runs on the
 * native `sqlite3` package, which Sequelize requires there.
 */
import { DataTypes, Sequelize, type Transaction } from 'sequelize';
import { sequelizeAdapter } from '../../adapters/sequelize/sequelize-adapter.ts';
import type { Executor } from '../../lib/sql/executor.ts';
import { createConcordiaJobsTable, dropConcordiaJobsTable } from '../../schema/sequelize/0001-create-concordia-jobs.ts';
import { addConcordiaUniqueJobs } from '../../schema/sequelize/0002-add-concordia-unique-jobs.ts';
import { replaceConcordiaLeaseIndex } from '../../schema/sequelize/0003-replace-concordia-lease-index.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';
import { inspector } from './harnesses.ts';

export type SequelizeDb = 'postgres' | 'mysql' | 'sqlite';

/**
 * A Sequelize instance on PostgreSQL, on MariaDB through `mysqlDialect` ('mariadb' or 'mysql'),
 * or on the SQLite file `sqlitePath`.
 */
export function openSequelize(db: SequelizeDb, mysqlDialect: 'mariadb' | 'mysql' = 'mariadb', sqlitePath?: string): Sequelize {
  if (db === 'postgres') return new Sequelize(PG_URL, { logging: false, pool: { max: 10 } });
  if (db === 'sqlite') {
    // WAL and a busy timeout, as the README asks of every SQLite database.
    const s = new Sequelize({ dialect: 'sqlite', storage: sqlitePath!, logging: false, dialectOptions: { mode: undefined } });
    s.addHook('afterConnect', async (conn: unknown) => {
      const c = conn as { run(sql: string, cb: (e: Error | null) => void): void; configure(o: string, v: number): void };
      c.configure('busyTimeout', 5000);
      await new Promise<void>((resolve, reject) => c.run('PRAGMA journal_mode = WAL', (e) => (e ? reject(e) : resolve())));
    });
    return s;
  }
  const url = new URL(MYSQL_URL);
  return new Sequelize(url.pathname.slice(1), decodeURIComponent(url.username), decodeURIComponent(url.password), {
    host: url.hostname,
    port: Number(url.port || 3306),
    dialect: mysqlDialect,
    logging: false,
    pool: { max: 10 },
  });
}

/** An independent sqlite3 connection (through a second Sequelize instance) on `path`. */
export function sequelizeInspector(path: string): { ex: Executor; close(): Promise<void> } {
  const other = openSequelize('sqlite', 'mariadb', path);
  return { ex: sequelizeAdapter(other).autocommit(), close: () => other.close() };
}

export async function sequelizeHarness(
  db: SequelizeDb,
  mysqlDialect: 'mariadb' | 'mysql' = 'mariadb',
): Promise<Harness<Transaction> & { sequelize: Sequelize; Order: ReturnType<Sequelize['define']> }> {
  const table = uniqueTable('sq');
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const sequelize = openSequelize(db, mysqlDialect, sqlitePath);
  await createConcordiaJobsTable(sequelize.getQueryInterface(), table);
  await addConcordiaUniqueJobs(sequelize.getQueryInterface(), table);
  await replaceConcordiaLeaseIndex(sequelize.getQueryInterface(), table);
  const Order = sequelize.define('Order', { id: { type: DataTypes.INTEGER, primaryKey: true } }, { tableName: `${table}_orders`, timestamps: false });
  await Order.sync();
  // On SQLite, look through Sequelize's own driver: two SQLite libraries (sqlite3 and
  // better-sqlite3) in one process on one file break each other's POSIX locks.
  const ins = db === 'sqlite' ? sequelizeInspector(sqlitePath!) : inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  return {
    name: `sequelize/${db}`,
    db,
    adapter: sequelizeAdapter(sequelize),
    table,
    sequelize,
    Order,
    inTransaction: (fn) => sequelize.transaction((t) => fn(t)),
    insertOrder: async (t, id) => void (await Order.create({ id }, { transaction: t })),
    notInTransaction: () => sequelize,
    ...inspectedMembers(view, ins, () => sequelize.close(), async () => {
      await dropConcordiaJobsTable(sequelize.getQueryInterface(), table);
      await Order.drop();
    }),
  };
}
