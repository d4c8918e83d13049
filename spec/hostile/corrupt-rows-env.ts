/**
 * A jobs table on one real database, for the corrupt-row and id-range suites: the raw driver's
 * adapter, an independent connection that writes rows behind Concordia's back, and the URL the
 * CLI opens.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { mysqlFlavor } from '../../lib/dialects/mysql-dialect.ts';
import { postgresFlavor } from '../../lib/dialects/postgres-dialect.ts';
import type { SqlFlavor } from '../../lib/dialects/sql-dialect.ts';
import { sqliteFlavor } from '../../lib/dialects/sqlite-dialect.ts';
import type { Adapter, Executor, SqlParam } from '../../lib/sql/executor.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { inspector } from '../support/harnesses.ts';
import { sqlInspection } from '../support/harness.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../bin/cli/main.ts';
import { isReachable } from '../support/databases.ts';

/** A row written directly; unset columns get a healthy value. Times are epoch ms, JSON is raw text. */
export interface RawRow {
  queue?: string;
  kind?: string;
  args?: string;
  state?: string;
  attempt?: number;
  maxAttempts?: number;
  runAtMs?: number;
  finalizedAtMs?: number | null;
  leaseToken?: string | null;
  lockedBy?: string | null;
  leaseExpiresAtMs?: number | null;
  errors?: string | null;
  metadata?: string | null;
}

export interface HostileEnv {
  db: Db;
  adapter: Adapter<unknown>;
  table: string;
  /** What `concordia --url` takes for this database. */
  url: string;
  /** Writes behind Concordia's back. */
  raw: Executor;
  /** Whether a JSON column accepts text that is not JSON (not on PostgreSQL's jsonb). */
  acceptsBadJson: boolean;
  view: ReturnType<typeof sqlInspection>;
  put(row: RawRow): Promise<string>;
  close(): Promise<void>;
}

const flavors: Record<Db, SqlFlavor> = { postgres: postgresFlavor, mysql: mysqlFlavor, sqlite: sqliteFlavor };
const idText: Record<Db, string> = { postgres: 'id::text', mysql: 'CAST(id AS CHAR)', sqlite: 'CAST(id AS TEXT)' };

export async function hostileEnv(db: Db): Promise<HostileEnv> {
  const table = uniqueTable('hj');
  const f = flavors[db];
  const t = f.quote(table);
  let adapter: Adapter<unknown>;
  let url: string;
  let closeOwn: () => Promise<void>;
  let path: string | undefined;
  if (db === 'postgres') {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 6 });
    pool.on('error', () => {});
    adapter = pgAdapter(pool) as Adapter<unknown>;
    url = PG_URL;
    closeOwn = () => pool.end();
  } else if (db === 'mysql') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 6 });
    adapter = mysql2Adapter(pool) as Adapter<unknown>;
    url = MYSQL_URL;
    closeOwn = () => pool.end();
  } else {
    path = tempSqlitePath();
    const conn = new Database(path, { timeout: 5000 });
    conn.pragma('journal_mode = WAL');
    adapter = betterSqlite3Adapter(conn) as Adapter<unknown>;
    url = path;
    closeOwn = async () => void conn.close();
  }
  const ins = inspector(db, path);
  const view = sqlInspection(db, table, ins.ex);
  await view.setup();
  if (db === 'mysql') {
    // MariaDB's JSON type is LONGTEXT plus a JSON_VALID check; a table made by hand (or by a
    // tool that maps JSON to text) has no check, and then anything can land in these columns.
    await ins.ex.execute(`ALTER TABLE ${t} MODIFY args LONGTEXT NOT NULL, MODIFY errors LONGTEXT NULL, MODIFY metadata LONGTEXT NULL`, []);
  }
  const time = (ms: number | null): SqlParam => (ms === null ? null : f.encodeTime(new Date(ms)));
  return {
    db,
    adapter,
    table,
    url,
    raw: ins.ex,
    acceptsBadJson: db !== 'postgres',
    view,
    async put(r: RawRow): Promise<string> {
      const now = Date.now();
      const cols: [string, SqlParam, string][] = [
        ['queue', r.queue ?? 'hostile', '?'],
        ['kind', r.kind ?? 'ok', '?'],
        ['args', r.args ?? '{}', f.jsonPlaceholder],
        ['state', r.state ?? 'available', '?'],
        ['attempt', r.attempt ?? 0, '?'],
        ['max_attempts', r.maxAttempts ?? 3, '?'],
        ['run_at', time(r.runAtMs ?? now - 1000), f.timePlaceholder],
        ['created_at', time(now - 1000), f.timePlaceholder],
        ['finalized_at', time(r.finalizedAtMs ?? null), f.timePlaceholder],
        ['lease_token', r.leaseToken ?? null, '?'],
        ['locked_by', r.lockedBy ?? null, '?'],
        ['lease_expires_at', time(r.leaseExpiresAtMs ?? null), f.timePlaceholder],
        ['errors', r.errors ?? null, f.jsonPlaceholder],
        ['metadata', r.metadata ?? null, f.jsonPlaceholder],
      ];
      const rows = await ins.ex.query(
        `INSERT INTO ${t} (${cols.map((c) => c[0]).join(', ')}) VALUES (${cols.map((c) => c[2]).join(', ')}) RETURNING ${idText[db]} AS id`,
        cols.map((c) => c[1]),
      );
      return String(rows[0]?.['id']);
    },
    async close() {
      await view.teardown();
      await ins.close();
      await closeOwn();
    },
  };
}

/**
 * Sets up one database's {@link HostileEnv} for the enclosing `describe` and returns a `test`
 * that skips where the database is unreachable and fails on any unhandled rejection the case
 * left behind (a worker path that threw where it should have recorded).
 */
export function hostileSuite(db: Db): { readonly env: HostileEnv; test: (name: string, fn: () => Promise<void>) => void } {
  let env: HostileEnv | undefined;
  let available = true;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  beforeAll(async () => {
    available = await isReachable(db);
    if (available) env = await hostileEnv(db);
    process.on('unhandledRejection', onRejection);
  }, 30_000);
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await env?.close();
  });
  const test = (name: string, fn: () => Promise<void>): void =>
    void it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
      expect(rejections).toEqual([]);
    });
  return {
    get env(): HostileEnv {
      return env!;
    },
    test,
  };
}

/** Runs the CLI in this process, as the binary would, with an empty environment. */
export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}
