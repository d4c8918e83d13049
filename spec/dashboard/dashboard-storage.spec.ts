/**
 * The dashboard routes that rest on the inspection and operator methods of the dialects
 * (docs/design/dashboard.md, section 1): search and pagination, the bounded count, job detail,
 * the overview, bulk actions by filter, discard / delete / run now, and the cron view's last job.
 * On the memory adapter and on PostgreSQL (pg adapter).
 *
 * Each group is skipped, and says so, while its dialect methods have not landed; then it runs
 * unchanged.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { createDashboard, type Dashboard, type DashboardAuditEvent, type DashboardOptions } from '../../lib/dashboard/index.ts';
import { createJobs, defineJob, periodic, type Jobs } from '../../lib/index.ts';
import { isReachable, PG_URL } from '../support/databases.ts';
import { pgHarness } from '../support/harnesses.ts';
import type { Harness } from '../support/harness.ts';

const ping = defineJob('ping', { handler: async (_args: { user?: { id: number }; padding?: string; secret?: string }) => {} });
const failing = defineJob('failing', {
  maxAttempts: 1,
  handler: async (_args: Record<string, never>) => {
    throw new Error('upstream refused token sk_live_abc');
  },
});
const ORIGIN = 'http://dash.test';

interface Backend {
  jobs: Jobs<unknown>;
  /** PostgreSQL: a connection of its own, to hold a lock on the jobs table. */
  lockTable?: () => Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend | null>][] = [
  ['memory', async () => ({ jobs: createJobs({ adapter: memoryAdapter(), jobs: [ping, failing] }) as Jobs<unknown>, close: async () => {} })],
  [
    'postgres',
    async () => {
      if (!(await isReachable('postgres'))) return null;
      const h: Harness<pg.PoolClient> = await pgHarness();
      const lockTable = async () => {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query('BEGIN');
        await client.query(`LOCK TABLE ${h.table} IN ACCESS EXCLUSIVE MODE`);
        return async () => {
          await client.query('ROLLBACK');
          await client.end();
        };
      };
      return { jobs: createJobs({ adapter: h.adapter, table: h.table, jobs: [ping, failing] }) as Jobs<unknown>, lockTable, close: () => h.close() };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`dashboard storage routes (${name})`, () => {
    let backend: Backend | null;
    let jobs: Jobs<unknown>;
    const audits: DashboardAuditEvent[] = [];
    const dashboards: Dashboard[] = [];
    const make = (options: Partial<DashboardOptions> = {}): Dashboard => {
      const d = createDashboard({ jobs, authorize: () => 'alice', onAudit: (e) => void audits.push(e), logger: { warn: () => {}, error: () => {} }, ...options });
      dashboards.push(d);
      return d;
    };
    const get = async (d: Dashboard, path: string) => {
      const response = await d(new Request(`${ORIGIN}${path}`));
      expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
      return response.json() as Promise<Record<string, unknown>>;
    };
    const post = async (d: Dashboard, path: string, json?: unknown) => {
      const token = ((await get(d, '/api/session')) as { csrfToken: string }).csrfToken;
      const headers: Record<string, string> = { origin: ORIGIN, 'x-csrf-token': token };
      if (json !== undefined) headers['content-type'] = 'application/json';
      return d(new Request(`${ORIGIN}${path}`, { method: 'POST', headers, body: json === undefined ? null : JSON.stringify(json) }));
    };

    beforeAll(async () => {
      backend = await open();
      if (backend) jobs = backend.jobs;
    });
    afterAll(async () => {
      await backend?.close();
    });

    // Evaluated when the tests run, after beforeAll opened the backend.
    const whenReachable = (fn: () => Promise<void>) => async (ctx: { skip: (note?: string) => void }) => {
      if (!backend) return ctx.skip(`${name} is not reachable`);
      await fn();
    };

    it(
      'lists jobs newest first by keyset pages that stay stable under inserts, filtered by state, kind, queue and args',
      whenReachable(async () => {
        const d = make();
        const ids: string[] = [];
        for (let i = 1; i <= 5; i++) ids.push(await jobs.enqueueAutocommit(ping({ user: { id: i } }), { queue: 'search' }));
        const first = (await get(d, '/api/jobs?queue=search&limit=2')) as { jobs: { id: string; args?: unknown }[]; next: string };
        expect(first.jobs.map((j) => j.id)).toEqual([ids[4], ids[3]]);
        expect(first.jobs[0]).not.toHaveProperty('args');
        await jobs.enqueueAutocommit(ping({ user: { id: 6 } }), { queue: 'search' });
        const second = (await get(d, `/api/jobs?queue=search&limit=2&cursor=${first.next}`)) as { jobs: { id: string }[]; next: string | null };
        expect(second.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
        const byArgs = (await get(d, '/api/jobs?queue=search&args=user.id=3')) as { jobs: { id: string }[] };
        expect(byArgs.jobs.map((j) => j.id)).toEqual([ids[2]]);
        expect(((await get(d, '/api/jobs?queue=search&state=completed')) as { jobs: unknown[] }).jobs).toEqual([]);
        expect(((await get(d, '/api/jobs?queue=search&kind=failing')) as { jobs: unknown[] }).jobs).toEqual([]);
      }),
    );

    it(
      'counts the jobs matching a filter, capped for the bulk confirmation',
      whenReachable(async () => {
        const d = make();
        for (let i = 0; i < 3; i++) await jobs.enqueueAutocommit(ping({}), { queue: 'counted' });
        expect(await get(d, '/api/jobs/count?queue=counted')).toEqual({ count: 3, capped: false });
        expect(await get(d, '/api/jobs/count?queue=counted&state=running')).toEqual({ count: 0, capped: false });
      }),
    );

    it(
      'shows a job with args only when allowed, redacted and cut past 64 KiB, and each error redacted, in the detail and the list',
      whenReachable(async () => {
        const redact = (text: string) => text.replace(/sk_live_\w+/g, '[secret]');
        const id = await jobs.enqueueAutocommit(ping({ secret: 'sk_live_xyz', padding: 'x'.repeat(100_000) }), { metadata: { trace: 't-1' } });
        const hidden = await get(make({ redact }), `/api/jobs/${id}`);
        expect(hidden).toMatchObject({ id, kind: 'ping', state: 'available', argsHidden: true, args: null, metadata: null, errors: [] });
        const shown = (await get(make({ redact, showArgs: (p) => p === 'alice' }), `/api/jobs/${id}`)) as { args: { text: string; truncated: boolean; bytes: number }; metadata: { text: string } };
        expect(shown.args.truncated).toBe(true);
        // PostgreSQL's jsonb spaces its text its own way, and puts shorter keys first (so "secret" before "padding").
        expect(shown.args.text).toMatch(/"secret": ?"\[secret\]"/);
        expect(shown.args.text).toMatch(/… \[truncated: \d+ of \d+ bytes shown\]$/);
        expect(JSON.parse(shown.metadata.text)).toEqual({ trace: 't-1' });

        const failed = await jobs.enqueueAutocommit(failing({}), { queue: 'failing' });
        const worker = jobs.createWorker({ queues: ['failing'] });
        const discarded = new Promise<void>((resolve) => worker.on('job:discarded', () => resolve()));
        await worker.start();
        await discarded;
        await worker.stop();
        const row = (await get(make({ redact }), '/api/jobs?queue=failing')) as { jobs: { id: string; lastError: string | null }[] };
        expect(row.jobs).toEqual([expect.objectContaining({ id: failed, lastError: 'upstream refused token [secret]' })]);
        const detail = (await get(make({ redact }), `/api/jobs/${failed}`)) as { state: string; errors: { message: { text: string }; stack: { text: string } | null }[] };
        expect(detail.state).toBe('discarded');
        expect(detail.errors[0]!.message.text).toBe('upstream refused token [secret]');
        expect(JSON.stringify(detail)).not.toContain('sk_live');
        const missing = await make()(new Request(`${ORIGIN}/api/jobs/999999999`));
        expect(missing.status).toBe(404);
      }),
    );

    it(
      'answers the overview (counts, queues with their paused flag, running jobs) and, apart, throughput',
      whenReachable(async () => {
        const d = make();
        await jobs.enqueueAutocommit(ping({}), { queue: 'overview' });
        await jobs.pauseQueue('overview');
        const overview = (await get(d, '/api/overview')) as { counts: { queue: string; state: string; count: number }[]; queues: { name: string; paused: boolean }[]; running: unknown[] };
        expect(overview.counts).toContainEqual(expect.objectContaining({ queue: 'overview', state: 'available', count: 1 }));
        expect(overview.queues).toContainEqual({ name: 'overview', paused: true });
        expect(Array.isArray(overview.running)).toBe(true);
        const throughput = (await get(d, '/api/throughput')) as { throughput: unknown[]; readAt: string };
        expect(throughput.throughput.length).toBeGreaterThanOrEqual(24); // the day's hours, by hour
        await jobs.resumeQueue('overview');
      }),
    );

    it(
      'acts on everything matching a filter, never on more jobs than the confirmed count',
      whenReachable(async () => {
        const d = make();
        for (let i = 0; i < 3; i++) await jobs.enqueueAutocommit(ping({}), { queue: 'bulk' });
        audits.length = 0;
        const response = await post(d, '/api/bulk', { action: 'cancel', filter: { queues: ['bulk'], states: ['available'] }, expected: 2 });
        const { changed } = (await response.json()) as { changed: string[] };
        expect(changed).toHaveLength(2);
        expect(audits).toEqual([expect.objectContaining({ target: 'jobs', action: 'cancel', principal: 'alice', filter: { queues: ['bulk'], states: ['available'] }, max: 2, changed })]);
      }),
    );

    it(
      'discards, runs now and deletes one job',
      whenReachable(async () => {
        const d = make();
        const later = await jobs.enqueueAutocommit(ping({}), { queue: 'single', delayMs: 3_600_000 });
        expect(await (await post(d, `/api/jobs/${later}/run-now`)).json()).toEqual({ changed: [later] });
        expect(await (await post(d, `/api/jobs/${later}/discard`)).json()).toEqual({ changed: [later] });
        expect(await (await post(d, `/api/jobs/${later}/delete`)).json()).toEqual({ changed: [later] });
        expect((await d(new Request(`${ORIGIN}/api/jobs/${later}`))).status).toBe(404);
      }),
    );

    it(
      'gives up on a read past statementTimeoutMs with 503 TIMEOUT',
      whenReachable(async () => {
        if (!backend!.lockTable) return;
        // Another session holds the table: the count waits for it, the answer does not.
        const release = await backend!.lockTable();
        try {
          const response = await make({ statementTimeoutMs: 200 })(new Request(`${ORIGIN}/api/jobs/count`));
          expect([response.status, await response.json()]).toEqual([503, { error: { code: 'TIMEOUT', message: expect.any(String) } }]);
        } finally {
          await release();
        }
      }),
    );

    it(
      "shows each periodic job's latest job in the cron view",
      whenReachable(async () => {
        const def = periodic('report', '0 * * * *', ping({}));
        const id = await jobs.enqueueAutocommit(ping({}), { metadata: { periodic: 'report' } });
        const cron = (await get(make({ periodic: [def] }), '/api/cron')) as { periodic: { name: string; lastJob: { id: string } | null }[] };
        expect(cron.periodic[0]).toMatchObject({ name: 'report', lastJob: { id } });
      }),
    );
  });
}
