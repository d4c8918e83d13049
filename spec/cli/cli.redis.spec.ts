/**
 * `concordia status | list | cancel | retry | prune` on Redis (`--url redis://…`, `--table` the
 * key prefix name), run in this process through `runCli` like spec/cli/cli-commands.spec.ts.
 * Job ids are UUIDv7 strings there, so the id checks ask the connected backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../bin/cli/main.ts';
import { createJobs, defineJob, FakeClock, type Jobs } from '../../lib/index.ts';
import { drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import type { Harness } from '../support/harness.ts';
import { ioredisHarness, REDIS_URL } from '../support/redis-harness.ts';

const DAY = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['DATABASE_URL'];
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

const mail = defineJob('cli_mail', { handler: async () => {} });
const flaky = defineJob('cli_flaky', {
  maxAttempts: 1,
  handler: async () => {
    throw new Error('boom');
  },
});

describe('concordia on Redis', () => {
  let h: Harness<unknown>;
  let jobs: Jobs<unknown>;
  const on = (): string[] => ['--url', REDIS_URL, '--table', h.table];

  beforeAll(async () => {
    h = (await ioredisHarness()) as Harness<unknown>;
    jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [mail, flaky] });
  });
  afterAll(() => h?.close());

  it('status and list read the prefix named by --table; ids are UUIDv7', async () => {
    const [a, b] = await jobs.enqueueManyAutocommit([mail({ secret: 'x' }, { queue: 'st_a' }), mail({}, { queue: 'st_b' })]);
    await jobs.cancel(b!);
    const status = await cli(['status', '--json', ...on()]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('st_a');
    const list = await cli(['list', '--json', '--queue', 'st_a', ...on()]);
    expect(list.code).toBe(0);
    const report = JSON.parse(list.stdout) as { jobs: { id: string; state: string }[] };
    expect(report.jobs).toEqual([expect.objectContaining({ id: a, state: 'available' })]);
    expect(a).toMatch(UUID);
    const text = await cli(['list', '--state', 'cancelled', ...on()]);
    expect(text.stdout).toMatch(new RegExp(`^${b}\\s+st_b\\s+cli_mail\\s+cancelled`, 'm'));
  });

  it('cancel and retry take a UUID; a numeric id is refused as not this database\'s form (exit 2)', async () => {
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'cx' })]);
    expect(await cli(['cancel', id!, ...on()])).toMatchObject({ code: 0, stdout: `Cancelled job ${id}.\n` });
    expect((await listEnqueued(jobs, { queue: 'cx' }))[0]).toMatchObject({ id, state: 'cancelled' });
    expect(JSON.parse((await cli(['retry', id!, '--json', ...on()])).stdout)).toEqual({ id, retried: true, state: 'available' });
    expect((await listEnqueued(jobs, { queue: 'cx' }))[0]).toMatchObject({ id, state: 'available' });
    // Unknown UUID: not done (exit 1).
    const unknown = '01890a5d-ac96-774b-bcce-b302099a8057';
    expect((await cli(['cancel', unknown, ...on()])).code).toBe(1);
    expect(JSON.parse((await cli(['retry', unknown, '--json', ...on()])).stdout)).toEqual({ id: unknown, retried: false, state: null });
    for (const command of ['cancel', 'retry']) {
      expect(await cli([command, '42', ...on()])).toMatchObject({ code: 2, stderr: expect.stringContaining(`${command}: "42" is not a job id of this redis database, whose ids are a UUIDv7`) });
    }
    // Neither form: refused before connecting (an unreachable URL shows no connection was tried).
    expect(await cli(['cancel', 'not-an-id', '--url', 'redis://127.0.0.1:1'])).toMatchObject({ code: 2, stderr: expect.stringContaining('cancel: give the job id') });
  });

  it('retry brings back a discarded job; prune deletes old finished jobs', async () => {
    const [failing] = await jobs.enqueueManyAutocommit([flaky({}, { queue: 'rty' })]);
    expect((await drainQueue(jobs, { queues: ['rty'] })).ran.map((r) => r.outcome)).toEqual(['discarded']);
    expect(await cli(['retry', failing!, ...on()])).toMatchObject({ code: 0, stdout: `Retrying job ${failing}: it is available again, due now.\n` });

    const old = createJobs({ adapter: h.adapter, table: h.table, jobs: [mail], clock: new FakeClock(new Date(Date.now() - 10 * DAY)) });
    await old.enqueueManyAutocommit(Array.from({ length: 5 }, () => mail({}, { queue: 'prn' })));
    expect((await drainQueue(old, { queues: ['prn'] })).completed).toBe(5);
    await jobs.enqueueManyAutocommit([mail({}, { queue: 'prn' })]);
    await drainQueue(jobs, { queues: ['prn'] });
    const run = await cli(['prune', '--older-than', '7d', '--batch-size', '2', ...on()]);
    expect(run).toMatchObject({ code: 0, stdout: 'Pruned 5 completed jobs finished more than 1w ago.\n' });
    expect(await listEnqueued(jobs, { queue: 'prn' })).toHaveLength(1);
  });

  it('an unreachable Redis is a database error (exit 3)', async () => {
    const run = await cli(['status', '--json', '--url', 'redis://127.0.0.1:1']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'DATABASE', exitCode: 3 } });
  });
});
