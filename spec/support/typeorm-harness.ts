/**
 * Harness factory for the TypeORM adapter. The jobs table and the orders table are created by
 * TypeORM itself (`synchronize()` from the entity schemas), never by our DDL: the conformance
 * suite then also proves the ORM-managed table works.
 */
import { DataSource, EntitySchema, type DataSourceOptions, type EntityManager } from 'typeorm';
import { typeormAdapter, type TypeormTransaction } from '../../adapters/typeorm/typeorm-adapter.ts';
import { concordiaJobEntity, type ConcordiaTypeormDatabase } from '../../schema/typeorm/concordia-job.entity.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';
import { inspector } from './harnesses.ts';

/** The TypeORM driver type used for each test database. */
export const typeormType: Record<Db, ConcordiaTypeormDatabase> = { postgres: 'postgres', mysql: 'mariadb', sqlite: 'better-sqlite3' };

/** An orders entity: the business write that must commit or roll back with the job. */
export function orderEntity(table: string): EntitySchema<{ id: number }> {
  return new EntitySchema<{ id: number }>({
    name: `Order_${table}`,
    tableName: `${table}_orders`,
    columns: { id: { type: 'integer', primary: true } },
  });
}

/** DataSource options for `db`; `sqlitePath` is the file for SQLite. */
export function typeormOptions(db: Db, sqlitePath?: string): DataSourceOptions {
  if (db === 'postgres') return { type: 'postgres', url: PG_URL, poolSize: 10 };
  if (db === 'mysql') return { type: 'mariadb', url: MYSQL_URL, poolSize: 10 };
  return { type: 'better-sqlite3', database: sqlitePath!, enableWAL: true, timeout: 5000 };
}

/** An initialized DataSource whose jobs (`table`) and orders tables TypeORM has synchronized. */
export async function typeormDataSource(db: Db, table: string, sqlitePath?: string): Promise<{ ds: DataSource; Order: EntitySchema<{ id: number }> }> {
  const Order = orderEntity(table);
  const ds = new DataSource({
    ...typeormOptions(db, sqlitePath),
    entities: [concordiaJobEntity({ type: typeormType[db], table, name: `Job_${table}` }), Order],
    logging: false,
  });
  await ds.initialize();
  await ds.synchronize();
  return { ds, Order };
}

export async function typeormHarness(db: Db): Promise<Harness<TypeormTransaction>> {
  const table = uniqueTable('cjto');
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const { ds, Order } = await typeormDataSource(db, table, sqlitePath);
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  return {
    name: `typeorm/${db}`,
    db,
    adapter: typeormAdapter(ds),
    table,
    inTransaction: (fn) => ds.transaction((em) => fn(em)),
    // An entity write through the ORM, not raw SQL: it must share the job's fate.
    insertOrder: async (tx, id) => void (await (tx as EntityManager).insert(Order, { id })),
    notInTransaction: () => ds.manager,
    ...inspectedMembers(view, ins, () => ds.destroy()),
  };
}
