/**
 * `concordia status | list | cancel | retry` on Firestore (`--url firestore://<project>?emulator=…`,
 * the collection from `collection=` or `--table`), run in this process through `runCli`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../bin/cli/main.ts';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import type { Harness } from '../support/harness.ts';
import { firestoreHarness, firestoreHost, firestoreReachable } from '../support/firestore-harness.ts';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['DATABASE_URL'];
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

const mail = defineJob('cli_fs_mail', { handler: async () => {} });

describe('concordia on Firestore', () => {
  let available = true;
  let h: Harness<unknown>;
  let jobs: Jobs<unknown>;
  let url = '';

  beforeAll(async () => {
    available = await firestoreReachable();
    if (!available) return;
    h = (await firestoreHarness()) as Harness<unknown>;
    jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [mail] });
    // The harness's project: read back from a document path of its Firestore instance.
    const project = (h.notInTransaction() as { projectId: string }).projectId;
    url = `firestore://${project}?emulator=${firestoreHost()}&collection=${h.table}`;
  });
  afterAll(() => h?.close());

  const test = (name: string, fn: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    }, 30_000);

  test('status and list read the collection the URL names', async () => {
    const [a, b] = await jobs.enqueueManyAutocommit([mail({ n: 1 }, { queue: 'fs_st_a' }), mail({}, { queue: 'fs_st_b' })]);
    await jobs.cancel(b!);
    const status = await cli(['status', '--json', '--url', url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('fs_st_a');
    const list = await cli(['list', '--json', '--queue', 'fs_st_a', '--url', url]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { jobs: unknown[] }).jobs).toEqual([expect.objectContaining({ id: a, state: 'available' })]);
    const text = await cli(['list', '--state', 'cancelled', '--url', url]);
    expect(text.stdout).toMatch(new RegExp(`^${b}\\s+fs_st_b\\s+cli_fs_mail\\s+cancelled`, 'm'));
  });

  test('cancel and retry by UUID; a bad project or emulator address is a usage error', async () => {
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'fs_cx' })]);
    expect(await cli(['cancel', id!, '--url', url])).toMatchObject({ code: 0, stdout: `Cancelled job ${id}.\n` });
    expect(JSON.parse((await cli(['retry', id!, '--json', '--url', url])).stdout)).toEqual({ id, retried: true, state: 'available' });
    expect((await listEnqueued(jobs, { queue: 'fs_cx' }))[0]).toMatchObject({ id, state: 'available' });
    expect((await cli(['status', '--url', 'firestore://Bad_Project'])).code).toBe(2);
    expect((await cli(['status', '--url', 'firestore://my-project?emulator=nowhere'])).code).toBe(2);
  });
});
