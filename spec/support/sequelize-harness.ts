/**
 * Sequelize 6 harness: the jobs table is created by Concordia's queryInterface migration (not
 * the canonical SQL), the orders table by `Model.sync()`. MariaDB runs through the `mariadb`
 * dialect by default (the `mysql` dialect, on mysql2, can be asked for). SQLite is not covered:
 * Sequelize needs the native `sqlite3` package there, which is not installed.
 */
import { DataTypes, Sequelize, type Transaction } from 'sequelize';
import { sequelizeAdapter } from '../../adapters/sequelize/sequelize-adapter.ts';
import { createConcordiaJobsTable, dropConcordiaJobsTable } from '../../schema/sequelize/0001-create-concordia-jobs.ts';
import { addConcordiaUniqueJobs } from '../../schema/sequelize/0002-add-concordia-unique-jobs.ts';
import { MYSQL_URL, PG_URL, uniqueTable } from './databases.ts';
import { sqlInspection, type Harness } from './harness.ts';
import { inspector } from './harnesses.ts';

export type SequelizeDb = 'postgres' | 'mysql';

/** A Sequelize instance on PostgreSQL, or on MariaDB through `mysqlDialect` ('mariadb' or 'mysql'). */
export function openSequelize(db: SequelizeDb, mysqlDialect: 'mariadb' | 'mysql' = 'mariadb'): Sequelize {
  if (db === 'postgres') return new Sequelize(PG_URL, { logging: false, pool: { max: 10 } });
  const url = new URL(MYSQL_URL);
  return new Sequelize(url.pathname.slice(1), decodeURIComponent(url.username), decodeURIComponent(url.password), {
    host: url.hostname,
    port: Number(url.port || 3306),
    dialect: mysqlDialect,
    logging: false,
    pool: { max: 10 },
  });
}

export async function sequelizeHarness(
  db: SequelizeDb,
  mysqlDialect: 'mariadb' | 'mysql' = 'mariadb',
): Promise<Harness<Transaction> & { sequelize: Sequelize; Order: ReturnType<Sequelize['define']> }> {
  const table = uniqueTable('sq');
  const sequelize = openSequelize(db, mysqlDialect);
  await createConcordiaJobsTable(sequelize.getQueryInterface(), table);
  await addConcordiaUniqueJobs(sequelize.getQueryInterface(), table);
  const Order = sequelize.define('Order', { id: { type: DataTypes.INTEGER, primaryKey: true } }, { tableName: `${table}_orders`, timestamps: false });
  await Order.sync();
  const ins = inspector(db);
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
    orderIds: view.orderIds,
    notInTransaction: () => sequelize,
    rows: view.rows,
    expireLease: view.expireLease,
    insertRaw: view.insertRaw,
    raw: ins.ex,
    async close() {
      await dropConcordiaJobsTable(sequelize.getQueryInterface(), table);
      await Order.drop();
      await ins.close();
      await sequelize.close();
    },
  };
}
