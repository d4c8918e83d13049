/**
 * The dashboard on PostgreSQL through the pg adapter, over a real node:http server: queue
 * pause/resume and job actions land in the table, and live updates arrive through LISTEN (the
 * poll interval is an hour, so nothing else could deliver them) on one connection that closes
 * with the last stream.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDashboard, toNodeHandler, type Dashboard, type DashboardAuditEvent } from '../../lib/dashboard/index.ts';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { isReachable, PG_URL } from '../support/databases.ts';
import { pgHarness } from '../support/harnesses.ts';
import type { Harness } from '../support/harness.ts';
import { countsWhere, listen, recordingLogger, sseReader } from './dashboard-kit.ts';

const ping = defineJob('ping', { handler: async (_args: Record<string, never>) => {} });
const reachable = await isReachable('postgres');

describe.skipIf(!reachable)('dashboard on PostgreSQL (pg adapter)', () => {
  let h: Harness<pg.PoolClient>;
  let jobs: Jobs<unknown>;
  let dashboard: Dashboard;
  let origin: string;
  let close: () => Promise<void>;
  let inspect: pg.Pool;
  const audits: DashboardAuditEvent[] = [];
  const log = recordingLogger();

  beforeAll(async () => {
    h = await pgHarness();
    inspect = new pg.Pool({ connectionString: PG_URL, max: 2 });
    jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [ping] }) as Jobs<unknown>;
    dashboard = createDashboard({
      jobs,
      authorize: () => ({ id: 'u-7', name: 'Ops' }),
      onAudit: (e) => void audits.push(e),
      logger: log.logger,
      events: { pollIntervalMs: 3_600_000, heartbeatMs: 3_600_000 },
    });
    const server = await listen(toNodeHandler(dashboard, { basePath: '/admin/jobs' }));
    origin = server.origin;
    close = server.close;
  });

  afterAll(async () => {
    await close?.();
    await inspect?.end();
    await h?.close();
  });

  const base = () => `${origin}/admin/jobs`;
  const token = async () => ((await (await fetch(`${base()}/api/session`)).json()) as { csrfToken: string }).csrfToken;
  const post = async (path: string) => fetch(`${base()}${path}`, { method: 'POST', headers: { origin, 'x-csrf-token': await token() } });
  const pausedInTable = async () => (await inspect.query(`SELECT queue FROM ${h.table} WHERE state = 'paused' ORDER BY queue`)).rows.map((r: { queue: string }) => r.queue);

  it('pauses and resumes a queue in the table, audited with the principal', async () => {
    expect(await (await post('/api/queues/emails/pause')).json()).toEqual({ queue: 'emails', paused: true, changed: true });
    expect(await pausedInTable()).toEqual(['emails']);
    expect(await jobs.pausedQueues()).toEqual(['emails']);
    expect(await (await post('/api/queues/emails/resume')).json()).toEqual({ queue: 'emails', paused: false, changed: true });
    expect(await pausedInTable()).toEqual([]);
    expect(audits.filter((a) => a.target === 'queue').map((a) => [a.action, a.principal])).toEqual([
      ['pause', { id: 'u-7', name: 'Ops' }],
      ['resume', { id: 'u-7', name: 'Ops' }],
    ]);
  });

  it('cancels and retries a job in the table', async () => {
    const id = await jobs.enqueueAutocommit(ping({}));
    expect(await (await post(`/api/jobs/${id}/cancel`)).json()).toEqual({ changed: [id] });
    expect((await h.rows()).find((r) => r.id === id)?.state).toBe('cancelled');
    expect(await (await post(`/api/jobs/${id}/retry`)).json()).toEqual({ changed: [id] });
    expect((await h.rows()).find((r) => r.id === id)).toMatchObject({ state: 'available', attempt: 0 });
  });

  it('refuses a write without a token, and a cross-origin one, leaving the table alone', async () => {
    const before = await pausedInTable();
    expect((await fetch(`${base()}/api/queues/x/pause`, { method: 'POST', headers: { origin } })).status).toBe(403);
    expect((await fetch(`${base()}/api/queues/x/pause`, { method: 'POST', headers: { origin: 'http://evil.test', 'x-csrf-token': await token() } })).status).toBe(403);
    expect(await pausedInTable()).toEqual(before);
  });

  it('pushes a counts event after an enqueue through LISTEN, and closes the LISTEN connection with the last stream', async () => {
    const listeners = async () => Number((await inspect.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${h.table}"`])).rows[0].n);
    await jobs.pauseQueue('held');
    const listening = log.next(/live updates are listening/);
    const abort = new AbortController();
    const response = await fetch(`${base()}/api/events`, { signal: abort.signal });
    const reader = sseReader(response.body!);
    const available = (d: { counts: { state: string; count: number }[] }) => d.counts.filter((c) => c.state === 'available').reduce((n, c) => n + c.count, 0);
    const first = await countsWhere(reader, () => true);
    // The queue paused above is in `paused`, and its marker row is not counted as a job.
    expect(first.paused).toEqual(['held']);
    expect(first.counts.filter((c) => c.state === 'paused' || c.queue === 'held')).toEqual([]);
    // The feed reads once more when LISTEN is up; after that read, only a notification can trigger one.
    await listening;
    expect(await listeners()).toBe(1);
    await jobs.enqueueAutocommit(ping({}), { queue: 'live' });
    const after = await countsWhere(reader, (d) => d.counts.some((c) => c.queue === 'live'));
    expect(after.counts.find((c) => c.queue === 'live')).toEqual({ queue: 'live', state: 'available', count: 1, estimated: false });
    expect(available(after)).toBe(available(first) + 1);
    const closed = log.next(/event stream closed/);
    abort.abort();
    await closed;
    await vi.waitFor(async () => expect(await listeners()).toBe(0), { timeout: 10_000, interval: 50 });
  });
});
