/**
 * Drizzle harness: the jobs table is created from the SQL drizzle-kit generates for
 * schema/drizzle/<db>.ts (not the canonical DDL).
 *
 * On better-sqlite3 Drizzle's `db.transaction()` is synchronous and cannot take the suite's
 * async callbacks, so `inTransaction` there opens the transaction by hand (BEGIN IMMEDIATE …
 * COMMIT on the Drizzle db's one connection) and hands the Drizzle `db` to the callback; the
 * adapter accepts it because the connection is inside a transaction. The synchronous
 * `db.transaction((tx) => jobs.enqueueSync(tx, …))` path has its own spec in spec/drizzle/.
 */
import Database from 'better-sqlite3';
import { sql, type Table } from 'drizzle-orm';
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzleMysql, type MySql2Database } from 'drizzle-orm/mysql2';
import { int, mysqlTable } from 'drizzle-orm/mysql-core';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { integer as pgInteger, pgTable } from 'drizzle-orm/pg-core';
import { integer as sqliteInteger, sqliteTable } from 'drizzle-orm/sqlite-core';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { drizzleAdapter, type DrizzleDatabase } from '../../adapters/drizzle/drizzle-adapter.ts';
import { drizzleKitCreateSql } from './drizzle-kit-sql.ts';
import { concordiaJobsTable as mysqlJobs } from '../../schema/drizzle/mysql.ts';
import { concordiaJobsTable as pgJobs } from '../../schema/drizzle/pg.ts';
import { concordiaJobsTable as sqliteJobs } from '../../schema/drizzle/sqlite.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';
import { inspector } from './harnesses.ts';

export type AnyDrizzle = NodePgDatabase | MySql2Database | BetterSQLite3Database;

/** The orders table (`<table>_orders`) of a harness, as a Drizzle definition per database. */
export const pgOrders = (table: string) => pgTable(`${table}_orders`, { id: pgInteger('id').primaryKey() });
export const mysqlOrders = (table: string) => mysqlTable(`${table}_orders`, { id: int('id').primaryKey() });
export const sqliteOrders = (table: string) => sqliteTable(`${table}_orders`, { id: sqliteInteger('id').primaryKey() });

/** The jobs table and the orders table as Drizzle definitions for `db`. */
export function drizzleTables(db: Db, table: string): Record<'jobs' | 'orders', Table> {
  if (db === 'postgres') return { jobs: pgJobs(table), orders: pgOrders(table) };
  if (db === 'mysql') return { jobs: mysqlJobs(table), orders: mysqlOrders(table) };
  return { jobs: sqliteJobs(table), orders: sqliteOrders(table) };
}

/** Opens a Drizzle db on `db` and returns it with a way to run plain DDL and to close it. */
export function openDrizzle(db: Db, sqlitePath?: string): { drizzle: AnyDrizzle; exec(stmt: string): Promise<void>; close(): Promise<void> } {
  if (db === 'postgres') {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
    const d = drizzlePg({ client: pool });
    return { drizzle: d, exec: async (s) => void (await d.execute(sql.raw(s))), close: () => pool.end() };
  }
  if (db === 'mysql') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    const d = drizzleMysql({ client: pool });
    return { drizzle: d, exec: async (s) => void (await d.execute(sql.raw(s))), close: () => pool.end() };
  }
  const conn = new Database(sqlitePath!, { timeout: 5000 });
  conn.pragma('journal_mode = WAL');
  const d = drizzleSqlite({ client: conn });
  return { drizzle: d, exec: async (s) => void d.run(sql.raw(s)), close: async () => void conn.close() };
}

/** Creates `tables` from drizzle-kit's generated SQL. */
export async function createWithDrizzleKit(db: Db, exec: (stmt: string) => Promise<void>, tables: Record<string, Table>): Promise<void> {
  for (const stmt of await drizzleKitCreateSql(db, tables)) await exec(stmt);
}

export async function drizzleHarness(db: Db): Promise<Harness<DrizzleDatabase> & { drizzle: AnyDrizzle }> {
  const table = uniqueTable('dz');
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const opened = openDrizzle(db, sqlitePath);
  const tables = drizzleTables(db, table);
  await createWithDrizzleKit(db, opened.exec, tables);
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  const d = opened.drizzle;

  async function inTransaction<T>(fn: (tx: DrizzleDatabase) => Promise<T>): Promise<T> {
    if (db !== 'sqlite') return (d as NodePgDatabase).transaction((tx) => fn(tx));
    const lite = d as BetterSQLite3Database;
    lite.run(sql`BEGIN IMMEDIATE`);
    try {
      const out = await fn(lite);
      lite.run(sql`COMMIT`);
      return out;
    } catch (error) {
      if ((lite as unknown as { $client: Database.Database }).$client.inTransaction) lite.run(sql`ROLLBACK`);
      throw error;
    }
  }

  async function insertOrder(tx: DrizzleDatabase, id: number): Promise<void> {
    // The three Drizzle dialects have unrelated types; each branch talks to its own.
    if (db === 'sqlite') (tx as BetterSQLite3Database).insert(sqliteOrders(table)).values({ id }).run();
    else if (db === 'mysql') await (tx as MySql2Database).insert(mysqlOrders(table)).values({ id });
    else await (tx as NodePgDatabase).insert(pgOrders(table)).values({ id });
  }

  return {
    name: `drizzle/${db}`,
    db,
    adapter: drizzleAdapter(d),
    table,
    drizzle: d,
    inTransaction,
    insertOrder,
    notInTransaction: () => d,
    ...inspectedMembers(view, ins, () => opened.close()),
  };
}
