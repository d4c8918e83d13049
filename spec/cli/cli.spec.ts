/**
 * The `concordia` binary, end to end: spawned with this Node against real PostgreSQL, MariaDB
 * and SQLite databases; output, database effects and exit codes are checked.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { createJobs, defineJob, type Adapter, type Jobs } from '../../lib/index.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import { ddl, isReachable, MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { mysql2Harness, pgHarness } from '../support/harnesses.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/concordia.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', ...env };
    if (!('DATABASE_URL' in env)) delete childEnv['DATABASE_URL'];
    execFile(process.execPath, [bin, ...args], { cwd: root, env: childEnv }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('concordia schema', () => {
  it('prints the canonical DDL of each database, renamed on request', async () => {
    for (const [db, dir] of [['postgres', 'postgres'], ['mysql', 'mysql'], ['sqlite', 'sqlite'], ['mariadb', 'mysql']] as const) {
      const run = await cli(['schema', '--orm', 'sql', '--db', db]);
      expect(run.code).toBe(0);
      const files = ['0001_create_jobs.sql', '0002_unique_jobs.sql', '0003_state_id_index.sql'];
      expect(run.stdout).toBe(files.map((f) => readFileSync(new URL(`../../schema/${dir}/${f}`, import.meta.url), 'utf8')).join('\n'));
    }
    const renamed = await cli(['schema', '--db', 'postgres', '--table', 'app_jobs']);
    expect(renamed.stdout).toContain('CREATE TABLE IF NOT EXISTS app_jobs (');
    expect(renamed.stdout).toContain('app_jobs_claim_idx ON app_jobs');
    expect(renamed.stdout).toContain('app_jobs_state_id_idx ON app_jobs (state, id)');
    expect(renamed.stdout).toContain('DROP INDEX IF EXISTS app_jobs_lease_idx');
    expect(renamed.stdout).not.toContain('concordia_jobs');
  });

  it('refuses bad input with exit code 2 and a clear message', async () => {
    expect(await cli(['schema', '--db', 'oracle'])).toMatchObject({ code: 2, stderr: 'concordia: --db must be postgres, mysql or sqlite (got "oracle").\n' });
    expect((await cli(['schema'])).code).toBe(2);
    expect(await cli(['schema', '--db', 'sqlite', '--orm', 'hibernate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--orm must be one of sql, prisma') });
    expect(await cli(['schema', '--db', 'sqlite', '--table', 'Robert"); DROP TABLE x;--'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Invalid table name') });
    expect(await cli(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Unknown command "frobnicate"') });
    expect(await cli(['status', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(await cli(['status'])).toMatchObject({ code: 2, stderr: expect.stringContaining('pass --url <url> or set DATABASE_URL') });
    expect(await cli(['cancel', 'abc', '--json'])).toMatchObject({ code: 2, stdout: expect.stringContaining('"code":"USAGE"') });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 not done');
  });
});

interface Target {
  url: string;
  table: string;
  jobs: Jobs<unknown>;
  close(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const path = tempSqlitePath();
  const table = uniqueTable();
  const db = new Database(path);
  for (const stmt of ddl('sqlite', table)) db.exec(stmt);
  return { url: path, table, jobs: createJobs({ adapter: betterSqlite3Adapter(db) as Adapter<unknown>, table }), close: async () => void db.close() };
}

async function harnessTarget(db: 'postgres' | 'mysql'): Promise<Target> {
  const h = db === 'postgres' ? await pgHarness() : await mysql2Harness();
  return { url: db === 'postgres' ? PG_URL : MYSQL_URL, table: h.table, jobs: createJobs({ adapter: h.adapter as Adapter<unknown>, table: h.table }), close: () => h.close() };
}

const targets: [string, Db, () => Promise<Target>][] = [
  ['PostgreSQL', 'postgres', () => harnessTarget('postgres')],
  ['MariaDB', 'mysql', () => harnessTarget('mysql')],
  ['SQLite', 'sqlite', sqliteTarget],
];

describe.each(targets)('concordia status / cancel on %s', (_label, db, factory) => {
  let t: Target;
  let available = true;
  beforeAll(async () => {
    available = await isReachable(db);
    if (available) t = await factory();
  });
  afterAll(async () => {
    await t?.close();
  });
  const test = (name: string, fn: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    });

  test('status counts by queue and state; cancel cancels once; JSON and DATABASE_URL work', async () => {
    const mail = defineJob('c_mail', { handler: async () => {} });
    const [a, b] = await t.jobs.enqueueManyAutocommit([mail({}, { queue: 'emails' }), mail({}, { queue: 'emails' }), mail({}, { queue: 'reports' })]);

    const text = await cli(['status', '--url', t.url, '--table', t.table]);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^QUEUE\s+AVAILABLE\s+RUNNING\s+COMPLETED\s+CANCELLED\s+DISCARDED$/);
    expect(text.stdout).toMatch(/^emails\s+2\s+0\s+0\s+0\s+0$/m);
    expect(text.stdout).toMatch(/^reports\s+1\s+0\s+0\s+0\s+0$/m);

    const cancel = await cli(['cancel', a!, '--url', t.url, '--table', t.table]);
    expect(cancel).toMatchObject({ code: 0, stdout: `Cancelled job ${a}.\n` });
    expect((await listEnqueued(t.jobs, { state: 'cancelled' })).map((j) => j.id)).toEqual([a]);
    const again = await cli(['cancel', a!, '--url', t.url, '--table', t.table, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toEqual({ id: a, cancelled: false });
    expect((await cli(['cancel', '999999999', '--url', t.url, '--table', t.table])).code).toBe(1);

    const json = await cli(['status', '--json', '--table', t.table], { DATABASE_URL: t.url });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { table: string; counts: unknown[]; totals: Record<string, number> };
    expect(report.table).toBe(t.table);
    expect(report.counts).toEqual([
      { queue: 'emails', state: 'available', count: 1 },
      { queue: 'emails', state: 'cancelled', count: 1 },
      { queue: 'reports', state: 'available', count: 1 },
    ]);
    expect(report.totals).toEqual({ available: 2, running: 0, completed: 0, cancelled: 1, discarded: 0 });
    expect(b).toBeDefined();
  });

  test('a missing jobs table is a database error (exit 3) naming the DDL to run', async () => {
    const run = await cli(['status', '--url', t.url, '--table', 'no_such_jobs']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/The jobs table "no_such_jobs" does not exist/);
    const json = await cli(['cancel', '1', '--url', t.url, '--table', 'no_such_jobs', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'SCHEMA_MISMATCH', exitCode: 3 } });
  });
});

describe('concordia connection errors', () => {
  it('an unreachable server or a missing SQLite file exits 3', async () => {
    const pg = await cli(['status', '--url', 'postgres://postgres@127.0.0.1:1/test']);
    expect(pg.code).toBe(3);
    expect(pg.stderr).toMatch(/^concordia: Database error: .*ECONNREFUSED/);
    const my = await cli(['status', '--url', 'mysql://root@127.0.0.1:1/test']);
    expect(my.code).toBe(3);
    const file = await cli(['status', '--url', '/nonexistent/dir/app.db']);
    expect(file).toMatchObject({ code: 3, stderr: 'concordia: SQLite file not found: /nonexistent/dir/app.db\n' });
    expect((await cli(['status', '--url', 'redis://127.0.0.1:1'])).code).toBe(3);
    expect((await cli(['status', '--url', 'mongodb://localhost'])).code).toBe(2);
  });
});
