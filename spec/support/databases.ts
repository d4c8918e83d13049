/**
 * Where the test databases are: an environment variable, else a container the run's globalSetup
 * started (global-setup.ts, which decides by database-source.ts), else the loopback default.
 * In CI (CI=true) an unreachable database fails the run; elsewhere its tests are skipped with a
 * loud notice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { LOOPBACK_URLS, URL_VARIABLES, type ServerDb } from './database-source.ts';

export type Db = 'postgres' | 'mysql' | 'sqlite';

/** The URL of `db` for this test worker. */
function urlOf(db: ServerDb): string {
  const fromEnv = process.env[URL_VARIABLES[db]];
  if (fromEnv) return fromEnv;
  return injectedUrl(db) || LOOPBACK_URLS[db];
}

/**
 * The URL the run's globalSetup provided, if any. Absent when a file runs outside this config's
 * globalSetup (a vitest run with another config), and outside vitest altogether: the benchmarks
 * import this module too, and vitest's `inject` throws outside a test worker.
 */
function injectedUrl(db: ServerDb): string | undefined {
  if (!process.env['VITEST']) return undefined;
  try {
    return inject('concordiaDatabaseUrls')?.[db];
  } catch {
    return undefined;
  }
}

export const PG_URL = urlOf('postgres');
export const MYSQL_URL = urlOf('mysql');

const reachable = new Map<Db, Promise<boolean>>();

async function probe(db: Db): Promise<boolean> {
  try {
    if (db === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    } else if (db === 'mysql') {
      const conn = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
      await conn.end();
    }
    return true;
  } catch (error) {
    if (process.env['CI']) {
      throw new Error(`${db} is not reachable in CI (${String(error)}): every database must run there.`, { cause: error });
    }
    console.warn(`\n!!! ${db} is not reachable (${String(error)}); its tests are SKIPPED. Set CONCORDIA_${db === 'postgres' ? 'PG' : 'MYSQL'}_URL.\n`);
    return false;
  }
}

/** Whether `db` can be reached (probed once per test file). */
export function isReachable(db: Db): Promise<boolean> {
  let p = reachable.get(db);
  if (!p) reachable.set(db, (p = probe(db)));
  return p;
}

/** A fresh table name, so test files running in parallel never share a table. */
export function uniqueTable(prefix = 'cj'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The numbered migrations of `db` (`0001_create_jobs.sql`, `0002_unique_jobs.sql`, …), in order;
 * with `upTo`, only those numbered up to it (the table as an older release left it).
 */
export function migrationFiles(db: Db, upTo = Infinity): string[] {
  const dir = new URL(`../../schema/${db}/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f) && Number(f.slice(0, 4)) <= upTo)
    .sort()
    .map((f) => new URL(f, dir).pathname);
}

/**
 * A fresh schema-qualified table name (`schema.table`), for the suites that run the engine on a
 * table outside the connection's own schema. The schema is new per call too; the harness creates
 * it (a PostgreSQL schema, a MariaDB database) and drops it at teardown. `long` makes the name
 * longer than PostgreSQL's 63-byte identifier limit once joined, with each part still within it.
 */
export function qualifiedTable(long = false): string {
  const tag = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return long ? `concordia_schema_under_test_${tag}.concordia_jobs_qualified_${tag}` : `cs_${tag}.cj_${tag}`;
}

/** The schema of a qualified table name, or null; and its bare name (what index names start with). */
export function tableParts(table: string): { schema: string | null; name: string } {
  const dot = table.indexOf('.');
  return dot < 0 ? { schema: null, name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** `table` quoted for `db`, part by part (`"app"."jobs"`, `` `app`.`jobs` ``); a bare name as it is. */
export function quoteTable(db: Db, table: string): string {
  if (!table.includes('.')) return table;
  const q = db === 'mysql' ? '`' : '"';
  return table.split('.').map((p) => `${q}${p}${q}`).join('.');
}

/**
 * The canonical DDL of `db` (every numbered migration, in order, or those up to `upTo`), with the
 * table (and its index names) renamed. A schema-qualified `table` is quoted part by part; its
 * index names keep only the bare name (an index lives in its table's schema, and CREATE INDEX
 * takes no schema), except where PostgreSQL's DROP INDEX needs the schema to find it.
 */
export function ddl(db: Db, table: string, upTo = Infinity): string[] {
  const { schema, name } = tableParts(table);
  const quoted = quoteTable(db, table);
  return migrationFiles(db, upTo).flatMap((file) =>
    readFileSync(file, 'utf8')
      // One pass: a new name may itself start with `concordia_jobs`.
      .replace(/(DROP INDEX IF EXISTS )?concordia_jobs(_\w+)?/g, (_m, drop: string | undefined, index: string | undefined) => {
        if (index === undefined) return `${drop ?? ''}${quoted}`;
        const where = drop !== undefined && db === 'postgres' && schema !== null ? `${quoteTable(db, schema)}.` : '';
        return `${drop ?? ''}${where}${quoteTable(db, `${name}${index}`)}`;
      })
      .split(/;\s*\n/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter((s) => s.length > 0),
  );
}

export function tempSqlitePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'concordia-')), 'test.db');
}
