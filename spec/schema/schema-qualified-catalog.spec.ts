/**
 * A schema-qualified jobs table (`schema.table`) is looked up in the catalog under its own
 * schema, never under a table of the same name in the connection's schema: verify() reads its
 * columns there, and on MariaDB the dashboard's FORCE INDEX hint names its own `(state, id)`
 * index. Each qualified table has a twin of the same bare name in the connection's schema that
 * would answer differently, so a look-up by bare name alone fails these tests.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { MysqlDialect } from '../../lib/dialects/mysql-dialect.ts';
import { PostgresDialect } from '../../lib/dialects/postgres-dialect.ts';
import { SqliteDialect } from '../../lib/dialects/sqlite-dialect.ts';
import { SchemaMismatchError } from '../../lib/errors.ts';
import type { Executor } from '../../lib/sql/executor.ts';
import { ddl, isReachable, qualifiedTable, quoteTable, tableParts, tempSqlitePath, uniqueTable } from '../support/databases.ts';
import { inspector } from '../support/harnesses.ts';

describe.each(['postgres', 'mysql'] as const)('schema-qualified table on %s', (db) => {
  const schema = tableParts(qualifiedTable()).schema!;
  // Bare names: `indexed` complete, `old` as migration 0001 left it, `absent` not in the schema at all.
  const [indexed, old, absent] = [uniqueTable('cq'), uniqueTable('cq'), uniqueTable('cq')];
  let ins: ReturnType<typeof inspector>;
  let available = true;

  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    ins = inspector(db);
    const run = async (stmts: string[]) => {
      for (const stmt of stmts) await ins.ex.execute(stmt, []);
    };
    // The twins, in the connection's own schema: every column, but no (state, id) index.
    for (const name of [indexed, old, absent]) await run(ddl(db, name, 2));
    await ins.ex.execute(db === 'postgres' ? `CREATE SCHEMA ${quoteTable(db, schema)}` : `CREATE DATABASE ${quoteTable(db, schema)}`, []);
    await run(ddl(db, `${schema}.${indexed}`));
    await run(ddl(db, `${schema}.${old}`, 1));
  });

  afterAll(async () => {
    if (!available) return;
    for (const name of [indexed, old, absent]) await ins.ex.execute(`DROP TABLE IF EXISTS ${name}`, []);
    await ins.ex.execute(db === 'postgres' ? `DROP SCHEMA IF EXISTS ${quoteTable(db, schema)} CASCADE` : `DROP DATABASE IF EXISTS ${quoteTable(db, schema)}`, []);
    await ins.close();
  });

  const dialectOf = (table: string) => (db === 'postgres' ? new PostgresDialect(table) : new MysqlDialect(table));
  const verifyError = (table: string) => dialectOf(table).verify(ins.ex).then(() => null, (e: unknown) => e);

  it('verify() reads the columns of the named schema', async (ctx) => {
    if (!available) return ctx.skip();
    expect(await verifyError(`${schema}.${indexed}`)).toBeNull();
    const stale = await verifyError(`${schema}.${old}`);
    expect(stale).toBeInstanceOf(SchemaMismatchError);
    expect((stale as SchemaMismatchError).missingColumns).toEqual(['unique_key', 'unique_states']);
    // The advice: the qualified name for the table, the bare one for index names (which take no schema).
    expect((stale as Error).message).toContain(`renamed to ${schema}.${old}, and each index name's concordia_jobs prefix to ${old}`);
    const missing = await verifyError(`${schema}.${absent}`);
    expect(missing).toBeInstanceOf(SchemaMismatchError);
    expect((missing as Error).message).toContain(`"${schema}.${absent}" does not exist`);
    expect((missing as Error).message).toContain(`0001_create_jobs.sql (with the table renamed to ${schema}.${absent}, and each index name's concordia_jobs prefix to ${absent}`);
  });

  it('the dashboard names the table\'s own (state, id) index where the optimizer needs it (MariaDB)', async (ctx) => {
    if (!available || db !== 'mysql') return ctx.skip();
    const seen: string[] = [];
    const recording: Executor = {
      dialect: 'mysql',
      query: (sql, params) => (seen.push(sql), ins.ex.query(sql, params)),
      execute: (sql, params) => (seen.push(sql), ins.ex.execute(sql, params)),
    };
    const page = await dialectOf(`${schema}.${indexed}`).searchJobs(recording, { filter: { states: ['completed'] }, cursor: '1000' });
    expect(page).toEqual({ jobs: [], next: null });
    const pages = seen.filter((sql) => !sql.includes('information_schema'));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toContain(`FORCE INDEX (\`${indexed}_state_id_idx\`)`);
  });
});

describe('schema-qualified table on SQLite (an attached database)', () => {
  it('verify() reads the columns of the attached database\'s table, not main\'s twin', async () => {
    const conn = new Database(tempSqlitePath());
    try {
      conn.exec(`ATTACH DATABASE '${tempSqlitePath()}' AS aux`);
      // main holds a complete twin; aux's tables are as migration 0001 left them, or absent.
      for (const stmt of ddl('sqlite', 'jobs')) conn.exec(stmt);
      for (const stmt of ddl('sqlite', 'old_jobs')) conn.exec(stmt);
      // The table alone (its indexes do not matter here).
      const [create] = ddl('sqlite', 'old_jobs', 1).filter((stmt) => stmt.startsWith('CREATE TABLE'));
      conn.exec(create!.replace('EXISTS old_jobs', 'EXISTS aux.old_jobs'));
      const ex = betterSqlite3Adapter(conn).autocommit();
      const stale = await new SqliteDialect('aux.old_jobs').verify(ex).then(() => null, (e: unknown) => e);
      expect(stale).toBeInstanceOf(SchemaMismatchError);
      expect((stale as SchemaMismatchError).missingColumns).toEqual(['unique_key', 'unique_states']);
      const missing = await new SqliteDialect('aux.jobs').verify(ex).then(() => null, (e: unknown) => e);
      expect((missing as Error).message).toContain('"aux.jobs" does not exist');
      await expect(new SqliteDialect('old_jobs').verify(ex)).resolves.toBeUndefined();
    } finally {
      conn.close();
    }
  });
});
