/**
 * `concordia status | list | cancel | retry` on DynamoDB Local (`--url dynamodb://host:port?region=…&table=…`),
 * run in this process through `runCli` like spec/cli/cli.redis.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../bin/cli/main.ts';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import type { Harness } from '../support/harness.ts';
import { dynamodbHarness, dynamodbReachable } from '../support/dynamodb-harness.ts';
import { dynamodbEndpoint } from '../support/emulator-endpoints.ts';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['DATABASE_URL'];
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

const mail = defineJob('cli_mail', { handler: async () => {} });
const available = await dynamodbReachable();

describe.skipIf(!available)('concordia on DynamoDB', () => {
  let h: Harness<unknown>;
  let jobs: Jobs<unknown>;
  const url = (): string => `dynamodb://${new URL(dynamodbEndpoint()).host}?region=local&table=${h.table}`;

  beforeAll(async () => {
    h = (await dynamodbHarness()) as Harness<unknown>;
    jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [mail] });
  });
  afterAll(() => h?.close());

  it('status and list read the table the URL names', async () => {
    const [a, b] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'st_a' }), mail({}, { queue: 'st_b' })]);
    await jobs.cancel(b!);
    const status = await cli(['status', '--json', '--url', url()]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('st_a');
    const list = await cli(['list', '--json', '--queue', 'st_a', '--url', url()]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { jobs: { id: string; state: string }[] }).jobs).toEqual([expect.objectContaining({ id: a, state: 'available' })]);
    const text = await cli(['list', '--state', 'cancelled', '--url', url()]);
    expect(text.stdout).toMatch(new RegExp(`^${b}\\s+st_b\\s+cli_mail\\s+cancelled`, 'm'));
  });

  it('cancel and retry by id', async () => {
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'cx' })]);
    expect(await cli(['cancel', id!, '--url', url()])).toMatchObject({ code: 0, stdout: `Cancelled job ${id}.\n` });
    expect(JSON.parse((await cli(['retry', id!, '--json', '--url', url()])).stdout)).toEqual({ id, retried: true, state: 'available' });
    expect((await listEnqueued(jobs, { queue: 'cx' }))[0]).toMatchObject({ id, state: 'available' });
  });

  it('a missing table or an unreachable endpoint is a database error (exit 3)', async () => {
    const missing = await cli(['status', '--json', '--url', `dynamodb://${new URL(dynamodbEndpoint()).host}?region=local&table=no_such_table`]);
    expect(missing.code).toBe(3);
    const run = await cli(['status', '--json', '--url', 'dynamodb://127.0.0.1:1?region=local']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'DATABASE', exitCode: 3 } });
  });
});
