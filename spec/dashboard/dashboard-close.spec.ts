/**
 * `Dashboard.close()` for a graceful shutdown, over a real node:http server (`toNodeHandler`):
 * an open event stream is ended on the server, so a plain `server.close()` (which waits for every
 * open request) completes; no timer of the live updates is left; `api/events` is refused
 * afterwards while the other routes still answer; and on PostgreSQL the counts feed's LISTEN
 * connection is released by the time `close()` resolves.
 *
 * Servers here are closed with `server.close()` alone, never `closeAllConnections()`: a stream the
 * dashboard failed to end would keep the close callback from ever running, and the test would
 * time out.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { FakeClock } from '../../lib/clock.ts';
import { createDashboard, toNodeHandler, type Dashboard } from '../../lib/dashboard/index.ts';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import type { Adapter, Listener } from '../../lib/sql/executor.ts';
import { isReachable, PG_URL } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { pgHarness } from '../support/harnesses.ts';
import { countsWhere, recordingLogger, sseReader } from './dashboard-kit.ts';

const ping = defineJob('ping', { handler: async (_args: Record<string, never>) => {} });
const BASE = '/admin/jobs';

/** A node:http server on a free loopback port; `stop()` is `server.close()` and nothing more. */
async function start(dashboard: Dashboard): Promise<{ origin: string; server: Server; stop(): Promise<void> }> {
  const server = createServer(toNodeHandler(dashboard, { basePath: BASE }));
  // Longer than any test: a connection left open after its stream ended would hold close() up.
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, server, stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))) };
}

/** Opens api/events and waits for its first counts event. */
async function openStream(origin: string) {
  const response = await fetch(`${origin}${BASE}/api/events`);
  expect(response.status).toBe(200);
  const reader = sseReader(response.body!);
  await countsWhere(reader, () => true);
  return reader;
}

/** Servers a test left running (it failed before stopping them): forced closed, so the run goes on. */
const leftOpen: Server[] = [];
afterEach(() => {
  for (const server of leftOpen.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('Dashboard.close() (memory adapter)', () => {
  function setup() {
    const jobs = createJobs({ adapter: memoryAdapter(), jobs: [ping] }) as Jobs<unknown>;
    const log = recordingLogger();
    const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: log.logger, events: { pollIntervalMs: 3_600_000, heartbeatMs: 3_600_000 } });
    return { dashboard, log };
  }

  it('ends open event streams, so that server.close() alone completes and the readers see the end', async () => {
    const { dashboard } = setup();
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    const readers = [await openStream(origin), await openStream(origin)];
    await dashboard.close();
    await Promise.all(readers.map((r) => r.ended));
    await stop();
    // The stream ended cleanly (no error), after its events.
    expect(readers[0]!.raw()).toContain('event: counts');
  });

  it('completes server.close() when it was called first, with the stream still open', async () => {
    const { dashboard } = setup();
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    const reader = await openStream(origin);
    const stopped = stop();
    await dashboard.close();
    await Promise.all([stopped, reader.ended]);
  });

  it('refuses api/events afterwards with 503 SHUTTING_DOWN and a Retry-After, and still serves the other routes', async () => {
    const { dashboard } = setup();
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    await dashboard.close();
    const refused = await fetch(`${origin}${BASE}/api/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).toContain('application/json');
    expect(await refused.json()).toEqual({ error: { code: 'SHUTTING_DOWN', message: expect.any(String) } });
    const head = await fetch(`${origin}${BASE}/api/events`, { method: 'HEAD' });
    expect(head.status).toBe(503);
    const session = await fetch(`${origin}${BASE}/api/session`);
    expect(session.status).toBe(200);
    expect(((await session.json()) as { principal: { id: string } }).principal.id).toBe('alice');
    expect((await fetch(`${origin}${BASE}/api/overview`)).status).toBe(200);
    await stop();
  });

  it("leaves none of the live updates' timers behind (the feed's poll, the stream's heartbeat)", async () => {
    const clock = new FakeClock();
    const jobs = createJobs({ adapter: memoryAdapter(), jobs: [ping], clock }) as Jobs<unknown>;
    const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: recordingLogger().logger });
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    const reader = await openStream(origin);
    expect(clock.pendingTimers).toBe(2);
    await dashboard.close();
    expect(clock.pendingTimers).toBe(0);
    await reader.ended;
    await stop();
  });

  it('may be called twice, and before any stream was opened', async () => {
    const { dashboard } = setup();
    const first = dashboard.close();
    expect(dashboard.close()).toBe(first);
    await first;
    await dashboard.close();
  });
});

const reachable = await isReachable('postgres');

describe.skipIf(!reachable)('Dashboard.close() on PostgreSQL (pg adapter)', () => {
  let h: Harness<pg.PoolClient>;
  let inspect: pg.Pool;
  beforeAll(async () => {
    h = await pgHarness();
    inspect = new pg.Pool({ connectionString: PG_URL, max: 1 });
  });
  afterAll(async () => {
    await inspect?.end();
    await h?.close();
  });

  const listening = async () => Number((await inspect.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${h.table}"`])).rows[0].n);

  /** A dashboard on the harness's table whose adapter records, per listener, whether its close() has finished. */
  function watchedDashboard() {
    const released: boolean[] = [];
    const base = h.adapter as Adapter<unknown>;
    const adapter: Adapter<unknown> = Object.create(base, {
      listen: {
        value: async (channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void): Promise<Listener> => {
          const listener = await base.listen!(channel, onNotification, onError);
          const i = released.push(false) - 1;
          return {
            close: async () => {
              await listener.close();
              released[i] = true;
            },
          };
        },
      },
    });
    const jobs = createJobs({ adapter, table: h.table, jobs: [ping] }) as Jobs<unknown>;
    const log = recordingLogger();
    const dashboard = createDashboard({ jobs, authorize: () => 'ops', logger: log.logger, events: { pollIntervalMs: 3_600_000, heartbeatMs: 3_600_000 } });
    return { dashboard, log, released };
  }

  it('releases the LISTEN connection of the counts feed by the time close() resolves', async () => {
    const { dashboard, log, released } = watchedDashboard();
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    const up = log.next(/live updates are listening/);
    const reader = await openStream(origin);
    await up;
    expect(released).toEqual([false]);
    expect(await listening()).toBe(1);

    await dashboard.close();
    expect(released).toEqual([true]);
    await reader.ended;
    await stop();
    // The server may take a moment to drop the ended backend from its view.
    await vi.waitFor(async () => expect(await listening()).toBe(0), { timeout: 10_000, interval: 50 });
    await dashboard.close();
  });

  it('releases a LISTEN connection that was still being opened when close() was called', async () => {
    const { dashboard, released } = watchedDashboard();
    const { origin, server, stop } = await start(dashboard);
    leftOpen.push(server);
    // Closed without waiting for the LISTEN to be up: close() waits for the open, then closes it.
    const reader = await openStream(origin);
    await dashboard.close();
    expect(released).toEqual([true]);
    await reader.ended;
    await stop();
    await vi.waitFor(async () => expect(await listening()).toBe(0), { timeout: 10_000, interval: 50 });
  });
});
