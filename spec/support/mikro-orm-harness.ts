/**
 * Harness factory for the MikroORM adapter. The jobs and orders tables are created by
 * MikroORM's SchemaGenerator from the entity schemas, never by our DDL.
 */
import { EntitySchema, type EntityManager, type MikroORM, type Options } from '@mikro-orm/core';
import { mikroOrmAdapter } from '../../adapters/mikro-orm/mikro-orm-adapter.ts';
import { concordiaJobSchema, type ConcordiaMikroDatabase } from '../../schema/mikro-orm/concordia-job.entity.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';
import { inspector } from './harnesses.ts';

/** The MikroORM driver package (and schema database) used for each test database. */
export const mikroDatabase: Record<Db, ConcordiaMikroDatabase> = { postgres: 'postgresql', mysql: 'mariadb', sqlite: 'sqlite' };

/** An orders entity: the business write that must commit or roll back with the job. */
export function mikroOrderSchema(table: string): EntitySchema<{ id: number }> {
  return new EntitySchema<{ id: number }>({
    name: `Order_${table}`,
    tableName: `${table}_orders`,
    properties: { id: { type: 'integer', primary: true, autoincrement: false } },
  });
}

/** Starts MikroORM on `db` with the jobs (`table`) and orders entities and creates both tables. */
export async function mikroOrm(db: Db, table: string, sqlitePath?: string): Promise<{ orm: MikroORM; Order: EntitySchema<{ id: number }> }> {
  const Order = mikroOrderSchema(table);
  const database = mikroDatabase[db];
  const { MikroORM } = (await import(`@mikro-orm/${database}`)) as { MikroORM: { init(o: Partial<Options>): Promise<MikroORM> } };
  const connection: Partial<Options> = db === 'sqlite' ? { dbName: sqlitePath! } : { clientUrl: db === 'postgres' ? PG_URL : MYSQL_URL };
  const orm = await MikroORM.init({
    ...connection,
    entities: [concordiaJobSchema({ database, table, name: `Job_${table}` }), Order],
    pool: { max: 10 },
    debug: false,
  });
  if (db === 'sqlite') {
    await orm.em.getConnection().execute('PRAGMA journal_mode = WAL', [], 'all');
    await orm.em.getConnection().execute('PRAGMA busy_timeout = 5000', [], 'all');
  }
  // create() only creates the tables of these entities; update() would diff (and drop) the rest of the shared test database.
  await orm.schema.create();
  return { orm, Order };
}

export async function mikroOrmHarness(db: Db): Promise<Harness<EntityManager>> {
  const table = uniqueTable('cjmo');
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const { orm, Order } = await mikroOrm(db, table, sqlitePath);
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  return {
    name: `mikro-orm/${db}`,
    db,
    adapter: mikroOrmAdapter(orm),
    table,
    inTransaction: (fn) => orm.em.fork().transactional((tem) => fn(tem)),
    // An entity write through the unit of work, flushed inside the transaction.
    async insertOrder(tem, id) {
      tem.create(Order, { id });
      await tem.flush();
    },
    notInTransaction: () => orm.em.fork(),
    ...inspectedMembers(view, ins, () => orm.close(true)),
  };
}
