/**
 * `concordia schema --orm …`, `list`, `retry` and `prune` against real PostgreSQL, MariaDB and
 * SQLite databases. The commands run in this process through `runCli` (what the binary calls),
 * because spawning a Node process per command took seconds each on a loaded machine; one test
 * still spawns the real binary, and spec/cli/cli.spec.ts drives it end to end.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { createJobs, defineJob, FakeClock, type Adapter, type Jobs } from '../../lib/index.ts';
import { drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import { ddl, isReachable, MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { mysql2Harness, pgHarness } from '../support/harnesses.ts';
import { runCli } from '../../bin/cli/main.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/concordia.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command in this process, as the binary would. */
async function cli(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['DATABASE_URL'];
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

/** Runs one command through the real binary, in a Node process of its own. */
function spawnCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env['DATABASE_URL'];
    execFile(process.execPath, [bin, ...args], { cwd: root, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const schemaText = (path: string): string => readFileSync(new URL(`../../schema/${path}`, import.meta.url), 'utf8');

describe('concordia schema --orm', () => {
  it('prints the artifact of each ORM under a comment line saying where it goes', async () => {
    const cases: [string[], string[]][] = [
      [['--orm', 'prisma', '--db', 'postgres'], ['prisma/postgresql/concordia.prisma']],
      [['--orm', 'prisma', '--db', 'mariadb'], ['prisma/mysql/concordia.prisma']],
      [['--orm', 'drizzle', '--db', 'sqlite'], ['drizzle/sqlite.ts']],
      [['--orm', 'typeorm'], ['typeorm/concordia-job.entity.ts']],
      [['--orm', 'mikro-orm', '--db', 'mysql'], ['mikro-orm/concordia-job.entity.ts']],
    ];
    for (const [args, files] of cases) {
      const run = await cli(['schema', ...args]);
      expect(run.code, args.join(' ')).toBe(0);
      const blocks = run.stdout.split(/^(?=\/\/ Concordia \S+ artifact )/m);
      expect(blocks).toHaveLength(files.length);
      files.forEach((f, i) => {
        expect(blocks[i]).toMatch(new RegExp(`^// Concordia ${args[1]} artifact schema/${f.replace(/\./g, '\\.')}: .+\\.\\n`));
        expect(blocks[i]!.slice(blocks[i]!.indexOf('\n') + 1).replace(/\n$/, '')).toBe(schemaText(f).replace(/\n$/, ''));
      });
    }
    // Migration-based ORMs print every numbered migration, in order.
    for (const orm of ['knex', 'kysely', 'sequelize']) {
      const run = await cli(['schema', '--orm', orm]);
      expect(run.code).toBe(0);
      const names = [...run.stdout.matchAll(/^\/\/ Concordia \S+ artifact schema\/(\S+):/gm)].map((m) => m[1]);
      expect(names[0]).toMatch(new RegExp(`^${orm}/0001[-_]`));
      expect(names).toEqual([...names].sort());
    }
    const renamed = await cli(['schema', '--orm', 'prisma', '--db', 'sqlite', '--table', 'app_jobs']);
    expect(renamed.stdout).toContain('@@map("app_jobs")');
    expect(renamed.stdout).not.toContain('concordia_jobs');
  });

  it('refuses a missing --db where the ORM needs one, and an unknown ORM', async () => {
    // Through the real binary once: its exit code and streams are what a shell sees.
    expect(await spawnCli(['schema', '--orm', 'prisma'])).toMatchObject({ code: 2, stderr: expect.stringContaining('add --db postgres, mysql or sqlite') });
    expect(await cli(['schema', '--orm', 'drizzle', '--db', 'oracle'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--db must be postgres, mysql or sqlite') });
    expect(await cli(['schema', '--orm', 'hibernate', '--json'])).toMatchObject({ code: 2, stdout: expect.stringContaining('"code":"USAGE"') });
  });
});

interface Target {
  url: string;
  table: string;
  adapter: Adapter<unknown>;
  close(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const path = tempSqlitePath();
  const table = uniqueTable();
  const db = new Database(path);
  for (const stmt of ddl('sqlite', table)) db.exec(stmt);
  return { url: path, table, adapter: betterSqlite3Adapter(db) as Adapter<unknown>, close: async () => void db.close() };
}

async function harnessTarget(db: 'postgres' | 'mysql'): Promise<Target> {
  const h = db === 'postgres' ? await pgHarness() : await mysql2Harness();
  return { url: db === 'postgres' ? PG_URL : MYSQL_URL, table: h.table, adapter: h.adapter as Adapter<unknown>, close: () => h.close() };
}

const targets: [string, Db, () => Promise<Target>][] = [
  ['PostgreSQL', 'postgres', () => harnessTarget('postgres')],
  ['MariaDB', 'mysql', () => harnessTarget('mysql')],
  ['SQLite', 'sqlite', sqliteTarget],
];

const DAY = 86_400_000;
const mail = defineJob('cli_mail', { handler: async () => {} });
const flaky = defineJob('cli_flaky', {
  maxAttempts: 1,
  handler: async () => {
    throw new Error('always fails');
  },
});

describe.each(targets)('concordia list / retry / prune on %s', (_label, db, factory) => {
  let t: Target;
  let jobs: Jobs<unknown>;
  let available = true;
  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    t = await factory();
    jobs = createJobs({ adapter: t.adapter, table: t.table, jobs: [mail, flaky] });
  });
  afterAll(async () => {
    await t?.close();
  });
  const test = (name: string, fn: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    });
  const on = (): string[] => ['--url', t.url, '--table', t.table];

  test('list shows a table without args unless --args; filters; --json', async () => {
    const [a, b, c] = await jobs.enqueueManyAutocommit([
      mail({ secret: 'hunter2' }, { queue: 'lst_a' }),
      mail({ secret: 'hunter3' }, { queue: 'lst_a' }),
      mail({ secret: 'hunter4' }, { queue: 'lst_b' }),
    ]);
    await jobs.cancel(c!);

    const text = await cli(['list', ...on()]);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+QUEUE\s+KIND\s+STATE\s+ATTEMPT\s+RUN AT \(UTC\)\s+FINALIZED AT \(UTC\)\s+ERRORS$/);
    expect(text.stdout).toMatch(new RegExp(`^${a}\\s+lst_a\\s+cli_mail\\s+available\\s+0/20\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+-\\s+0$`, 'm'));
    expect(text.stdout).not.toContain('hunter');

    const withArgs = await cli(['list', '--args', '--queue', 'lst_a', ...on()]);
    expect(withArgs.stdout.split('\n')[0]).toMatch(/\s+ARGS$/);
    expect(withArgs.stdout).toContain('{"secret":"hunter2"}');
    expect(withArgs.stdout).not.toContain('hunter4');

    const json = await cli(['list', '--json', '--state', 'cancelled', ...on()]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { table: string; jobs: Record<string, unknown>[] };
    expect(report.table).toBe(t.table);
    expect(report.jobs).toEqual([expect.objectContaining({ id: c, queue: 'lst_b', kind: 'cli_mail', state: 'cancelled', attempt: 0, errors: 0 })]);
    expect(report.jobs[0]).not.toHaveProperty('args');
    expect(Date.parse(String(report.jobs[0]!['finalizedAt']))).not.toBeNaN();

    const limited = JSON.parse((await cli(['list', '--json', '--limit', '1', '--queue', 'lst_a', '--args', ...on()])).stdout) as { jobs: { id: string; args: unknown }[] };
    expect(limited.jobs).toEqual([expect.objectContaining({ id: a, args: { secret: 'hunter2' } })]);
    expect(b).toBeDefined();

    expect(await cli(['list', '--state', 'done', ...on()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--state must be one of available, running') });
    expect((await cli(['list', '--limit', '0', ...on()])).code).toBe(2);
  });

  test('retry puts a discarded or cancelled job back, due now with attempt 0; refuses others', async () => {
    const [failing] = await jobs.enqueueManyAutocommit([flaky({}, { queue: 'rty' })]);
    const [cancelled, live] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'rty_c' }), mail({}, { queue: 'rty_c' })]);
    await jobs.cancel(cancelled!);
    const drained = await drainQueue(jobs, { queues: ['rty'] });
    expect(drained.ran.map((r) => r.outcome)).toEqual(['discarded']);

    const before = Date.now();
    const run = await cli(['retry', failing!, ...on()]);
    expect(run).toMatchObject({ code: 0, stdout: `Retrying job ${failing}: it is available again, due now.\n` });
    const [job] = (await listEnqueued(jobs, { queue: 'rty' })).filter((j) => j.id === failing);
    expect(job).toMatchObject({ state: 'available', attempt: 0, finalizedAt: null });
    expect(Math.abs(job!.runAt.getTime() - before)).toBeLessThan(60_000);
    expect(job!.errors).toHaveLength(1); // the history of why it needed a retry stays

    expect(JSON.parse((await cli(['retry', cancelled!, '--json', ...on()])).stdout)).toEqual({ id: cancelled, retried: true, state: 'available' });

    const refused = await cli(['retry', live!, ...on()]);
    expect(refused).toMatchObject({ code: 1, stderr: `concordia: job ${live} was not retried: it is available; only discarded or cancelled jobs can be retried.\n` });
    const unknown = await cli(['retry', '987654321', '--json', ...on()]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({ id: '987654321', retried: false, state: null });
    expect(await cli(['retry', '12x', ...on()])).toMatchObject({ code: 2, stderr: expect.stringContaining('retry: give the job id') });
  });

  test('prune deletes finished jobs older than the cutoff, in batches, with progress on stderr', async () => {
    // Jobs finished 10 days ago: a fake clock binds its time into every statement.
    const old = createJobs({ adapter: t.adapter, table: t.table, jobs: [mail], clock: new FakeClock(new Date(Date.now() - 10 * DAY)) });
    await old.enqueueManyAutocommit(Array.from({ length: 23 }, () => mail({}, { queue: 'prn' })));
    expect((await drainQueue(old, { queues: ['prn'] })).completed).toBe(23);
    const [oldCancelled] = await old.enqueueManyAutocommit([mail({}, { queue: 'prn' })]);
    await old.cancel(oldCancelled!);
    // A recent completed job stays.
    await jobs.enqueueManyAutocommit([mail({}, { queue: 'prn' })]);
    await drainQueue(jobs, { queues: ['prn'] });

    const keep = await cli(['prune', '--older-than', '30d', ...on()]);
    expect(keep).toMatchObject({ code: 0, stdout: 'Pruned 0 completed jobs finished more than 30d ago.\n' });

    const run = await cli(['prune', '--older-than', '7d', '--batch-size', '2', ...on()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Pruned 23 completed jobs finished more than 1w ago.\n');
    expect(run.stderr).toMatch(/^concordia: pruned 20 completed jobs so far…$/m);
    const left = await listEnqueued(jobs, { queue: 'prn' });
    expect(left.map((j) => j.state).sort()).toEqual(['cancelled', 'completed']);

    const json = await cli(['prune', '--state', 'cancelled', '--older-than', '1d', '--json', ...on()]);
    expect(JSON.parse(json.stdout)).toEqual({ table: t.table, state: 'cancelled', olderThanMs: DAY, deleted: 1 });
    expect(await cli(['prune', '--state', 'available', ...on()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--state must be completed, cancelled or discarded') });
  });

  test('a missing jobs table is a database error (exit 3) for every command', async () => {
    for (const args of [['list'], ['retry', '1'], ['prune']]) {
      const run = await cli([...args, '--url', t.url, '--table', 'no_such_jobs']);
      expect(run.code, args[0]).toBe(3);
      expect(run.stderr).toMatch(/The jobs table "no_such_jobs" does not exist/);
    }
  });
});

describe('concordia list / retry / prune: bad or unreachable databases', () => {
  it('a bad URL exits 2; an unreachable server or missing file exits 3', async () => {
    expect(await cli(['list', '--url', 'mongodb://localhost'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Unsupported database URL scheme') });
    const pg = await cli(['retry', '1', '--url', 'postgres://postgres@127.0.0.1:1/test', '--json']);
    expect(pg.code).toBe(3);
    expect(JSON.parse(pg.stdout)).toMatchObject({ error: { code: 'DATABASE', exitCode: 3 } });
    expect((await cli(['prune', '--url', 'mysql://root@127.0.0.1:1/test'])).code).toBe(3);
    expect(await cli(['list', '--url', '/nonexistent/dir/app.db'])).toMatchObject({ code: 3, stderr: 'concordia: SQLite file not found: /nonexistent/dir/app.db\n' });
    expect((await cli(['list'])).code).toBe(2);
  });
});
