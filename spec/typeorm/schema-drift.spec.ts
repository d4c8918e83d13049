/**
 * Schema drift: the table TypeORM creates from `concordiaJobEntity()` must match, catalog entry
 * for catalog entry, the table `schema/<db>/0001_create_jobs.sql` creates.
 */
import { describe, expect, it } from 'vitest';
import { ddl, isReachable, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { inspector } from '../support/harnesses.ts';
import { typeormDataSource } from '../support/typeorm-harness.ts';
import { describeTable } from './table-catalog.ts';

describe.each<Db>(['postgres', 'mysql', 'sqlite'])('TypeORM schema drift on %s', (db) => {
  it('synchronize() creates the same table as the canonical DDL', async (ctx) => {
    if (!(await isReachable(db))) return ctx.skip();
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    const canonical = uniqueTable('cjddl');
    const orm = uniqueTable('cjto');
    const ins = inspector(db, sqlitePath);
    const { ds } = await typeormDataSource(db, orm, sqlitePath);
    try {
      for (const stmt of ddl(db, canonical)) await ins.ex.execute(stmt, []);
      const expected = await describeTable(db, ins.ex, canonical);
      const actual = await describeTable(db, ins.ex, orm);
      expect(expected.columns).toHaveLength(19);
      expect(expected.indexes.length).toBeGreaterThanOrEqual(2);
      // The catalog read is real: the millisecond time type shows up in it.
      expect(JSON.stringify(expected.columns)).toMatch(db === 'mysql' ? /datetime\(3\)/ : db === 'postgres' ? /"datetime_precision":3/ : /"INTEGER"/);
      expect(actual).toEqual(expected);
      // And TypeORM itself sees nothing left to change (no migration would be generated).
      expect((await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
      for (const t of [canonical, orm, `${orm}_orders`]) await ins.ex.execute(`DROP TABLE IF EXISTS ${t}`, []);
      await ins.close();
    }
  });

  it('the comparison notices a drifted column', async (ctx) => {
    if (!(await isReachable(db))) return ctx.skip();
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    const a = uniqueTable('cjddl');
    const b = uniqueTable('cjddl');
    const ins = inspector(db, sqlitePath);
    try {
      for (const stmt of ddl(db, a)) await ins.ex.execute(stmt, []);
      // Whole-second times: the drift MikroORM's and TypeORM's defaults would cause on MariaDB.
      const drifted = ddl(db, b).map((s) => s.replace(/(run_at\s+)(TIMESTAMPTZ\(3\)|DATETIME\(3\)|INTEGER)/, (_m, col: string, type: string) => col + (db === 'sqlite' ? 'TEXT' : type.replace('(3)', ''))));
      for (const stmt of drifted) await ins.ex.execute(stmt, []);
      expect(await describeTable(db, ins.ex, b)).not.toEqual(await describeTable(db, ins.ex, a));
    } finally {
      for (const t of [a, b]) await ins.ex.execute(`DROP TABLE IF EXISTS ${t}`, []);
      await ins.close();
    }
  });
});
