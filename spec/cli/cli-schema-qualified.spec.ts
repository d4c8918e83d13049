/**
 * `concordia status` and `list` with `--table schema.table`, on PostgreSQL and MariaDB (where a
 * schema is a database). A table of the same bare name in the connection's own schema holds
 * other jobs: the commands must read the qualified table and only it. The commands run in this
 * process through `runCli`, as spec/cli/cli-commands.spec.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../bin/cli/main.ts';
import { createJobs, defineJob, type Adapter, type Jobs } from '../../lib/index.ts';
import { ddl, isReachable, MYSQL_URL, PG_URL, qualifiedTable, tableParts } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { mysql2Harness, pgHarness } from '../support/harnesses.ts';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['DATABASE_URL'];
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

const mail = defineJob('cliq_mail', { handler: async () => {} });

describe.each(['postgres', 'mysql'] as const)('concordia status / list --table schema.table on %s', (db) => {
  let h: Harness;
  let jobs: Jobs<unknown>;
  let twin: Jobs<unknown>;
  let bare = '';
  let available = true;
  const url = db === 'postgres' ? PG_URL : MYSQL_URL;

  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    h = (db === 'postgres' ? await pgHarness(qualifiedTable()) : await mysql2Harness(qualifiedTable())) as Harness;
    bare = tableParts(h.table).name;
    for (const stmt of ddl(db, bare)) await h.raw!.execute(stmt, []);
    jobs = createJobs({ adapter: h.adapter as Adapter<unknown>, table: h.table, jobs: [mail] });
    twin = createJobs({ adapter: h.adapter as Adapter<unknown>, table: bare, jobs: [mail] });
  });
  afterAll(async () => {
    if (bare) await h.raw!.execute(`DROP TABLE IF EXISTS ${bare}`, []);
    await h?.close();
  });
  const test = (name: string, fn: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    });

  test('status and list read the qualified table, not its same-named twin in the connection\'s schema', async () => {
    const [a, b, c] = await jobs.enqueueManyAutocommit([mail({ n: 1 }, { queue: 'q_mail' }), mail({ n: 2 }, { queue: 'q_mail' }), mail({ n: 3 }, { queue: 'q_report' })]);
    await jobs.cancel(c!);
    await twin.enqueueManyAutocommit([mail({ n: 9 }, { queue: 'twin_only' })]);
    const on = ['--url', url, '--table', h.table];

    const status = await cli(['status', ...on]);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^q_mail\s+2\s+0\s+0\s+0\s+0$/m);
    expect(status.stdout).toMatch(/^q_report\s+0\s+0\s+0\s+1\s+0$/m);
    expect(status.stdout).not.toContain('twin_only');
    expect(JSON.parse((await cli(['status', '--json', ...on])).stdout)).toMatchObject({ table: h.table });

    const list = await cli(['list', '--json', '--args', ...on]);
    expect(list.code).toBe(0);
    const report = JSON.parse(list.stdout) as { table: string; jobs: { id: string; queue: string; state: string; args: unknown }[] };
    expect(report.table).toBe(h.table);
    expect(report.jobs.map((j) => [j.id, j.queue, j.state, j.args])).toEqual([
      [a, 'q_mail', 'available', { n: 1 }],
      [b, 'q_mail', 'available', { n: 2 }],
      [c, 'q_report', 'cancelled', { n: 3 }],
    ]);
    const text = await cli(['list', '--queue', 'q_mail', ...on]);
    expect(text.stdout).toMatch(new RegExp(`^${a}\\s+q_mail\\s+cliq_mail\\s+available\\s`, 'm'));
    expect(text.stdout).not.toContain('q_report');

    // The twin answers for the bare name: the two really are different tables.
    expect((await cli(['status', '--url', url, '--table', bare])).stdout).toMatch(/^twin_only\s+1\s/m);
  });

  test('a qualified table that does not exist is a database error naming it (exit 3)', async () => {
    const missing = `${tableParts(h.table).schema}.no_such_jobs`;
    for (const command of ['status', 'list']) {
      const run = await cli([command, '--url', url, '--table', missing]);
      expect(run.code, command).toBe(3);
      expect(run.stderr).toContain(`The jobs table "${missing}" does not exist`);
    }
  });
});
