/**
 * Schema drift: the table MikroORM's SchemaGenerator creates from `concordiaJobSchema()` must
 * match, catalog entry for catalog entry, the table `schema/<db>/0001_create_jobs.sql` creates.
 */
import { describe, expect, it } from 'vitest';
import { ddl, isReachable, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { inspector } from '../support/harnesses.ts';
import { mikroOrm } from '../support/mikro-orm-harness.ts';
import { describeTable } from '../typeorm/table-catalog.ts';

describe.each<Db>(['postgres', 'mysql', 'sqlite'])('MikroORM schema drift on %s', (db) => {
  it('the SchemaGenerator creates the same table as the canonical DDL', async (ctx) => {
    if (!(await isReachable(db))) return ctx.skip();
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    const canonical = uniqueTable('cjddl');
    const table = uniqueTable('cjmo');
    const ins = inspector(db, sqlitePath);
    const { orm } = await mikroOrm(db, table, sqlitePath);
    try {
      for (const stmt of ddl(db, canonical)) await ins.ex.execute(stmt, []);
      const expected = await describeTable(db, ins.ex, canonical);
      expect(expected.columns).toHaveLength(19);
      expect(await describeTable(db, ins.ex, table)).toEqual(expected);
    } finally {
      await orm.close(true);
      for (const t of [canonical, table, `${table}_orders`]) await ins.ex.execute(`DROP TABLE IF EXISTS ${t}`, []);
      await ins.close();
    }
  });

  it('a second SchemaGenerator pass finds nothing to change', async (ctx) => {
    if (!(await isReachable(db))) return ctx.skip();
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    const table = uniqueTable('cjmo');
    const { orm } = await mikroOrm(db, table, sqlitePath);
    const ins = inspector(db, sqlitePath);
    try {
      // Diff only this test's tables: the shared test database holds other files' tables too.
      const sql = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: true });
      const ours = sql.split('\n').filter((line) => line.includes(table));
      expect(ours).toEqual([]);
    } finally {
      await orm.close(true);
      for (const t of [table, `${table}_orders`]) await ins.ex.execute(`DROP TABLE IF EXISTS ${t}`, []);
      await ins.close();
    }
  });
});
