/**
 * `toNodeHandler` in a real node:http server, reached with `fetch`: the base path from the
 * option and from an Express-style mount (nested routers), `next` for paths outside it, bodies a
 * parser already read, and server-sent events that reach the client as they happen and end on
 * the server when the client goes away.
 *
 * Express itself is not installed here; the mount is reproduced by what Express does to the
 * request before calling a middleware mounted with `app.use(path, …)`: it keeps the full URL in
 * `req.originalUrl`, the mount path in `req.baseUrl`, and the rest in `req.url`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { createDashboard, toNodeHandler, type DashboardOptions, type NodeHandler } from '../../lib/dashboard/index.ts';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { countsWhere, listen, recordingLogger, sseReader } from './dashboard-kit.ts';

const ping = defineJob('ping', { handler: async (_args: Record<string, never>) => {} });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function setup(options: Partial<DashboardOptions> = {}) {
  const memory = memoryAdapter();
  const jobs = createJobs({ adapter: memory, jobs: [ping] }) as Jobs<unknown>;
  const log = recordingLogger();
  const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: log.logger, ...options });
  return { memory, jobs, dashboard, log };
}

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = await listen(listener);
  closers.push(server.close);
  return server.origin;
}

/** What Express does before a middleware mounted at `mount` runs. */
function expressMount(mount: string, handler: NodeHandler, onNext: (res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const r = req as IncomingMessage & { originalUrl?: string; baseUrl?: string };
    const url = req.url ?? '/';
    if (url !== mount && !url.startsWith(`${mount}/`) && !url.startsWith(`${mount}?`)) return onNext(res);
    r.originalUrl = url;
    r.baseUrl = mount;
    req.url = url.slice(mount.length) || '/';
    handler(req, res, () => onNext(res));
  };
}

const teapot = (res: ServerResponse) => {
  res.statusCode = 418;
  res.end('next');
};

async function sessionToken(origin: string, base: string): Promise<string> {
  return ((await (await fetch(`${origin}${base}/api/session`)).json()) as { csrfToken: string }).csrfToken;
}

describe('toNodeHandler', () => {
  it('serves the dashboard under the basePath option in a plain http server', async () => {
    const { dashboard, jobs } = setup();
    const origin = await serve(toNodeHandler(dashboard, { basePath: '/admin/jobs' }));
    const page = await fetch(`${origin}/admin/jobs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<base href="/admin/jobs/">');
    const token = await sessionToken(origin, '/admin/jobs');
    const pause = await fetch(`${origin}/admin/jobs/api/queues/q/pause`, { method: 'POST', headers: { origin, 'x-csrf-token': token } });
    expect(await pause.json()).toEqual({ queue: 'q', paused: true, changed: true });
    expect(await jobs.pausedQueues()).toEqual(['q']);
    const crossSite = await fetch(`${origin}/admin/jobs/api/queues/q/resume`, { method: 'POST', headers: { origin: 'http://evil.test', 'x-csrf-token': token } });
    expect(crossSite.status).toBe(403);
    expect(await jobs.pausedQueues()).toEqual(['q']);
  });

  it('reads the mount path from each request under an Express-style mount, nested, and calls next outside it', async () => {
    const { dashboard } = setup();
    const origin = await serve(expressMount('/admin/jobs', toNodeHandler(dashboard), teapot));
    expect(await (await fetch(`${origin}/admin/jobs/`)).text()).toContain('<base href="/admin/jobs/">');
    expect(await (await fetch(`${origin}/admin/jobs`)).text()).toContain('<base href="/admin/jobs/">');
    expect((await fetch(`${origin}/admin/jobs/api/session`)).status).toBe(200);
    expect((await fetch(`${origin}/elsewhere`)).status).toBe(418);
    // The same handler at another mount: nothing was fixed at build or creation time.
    const other = await serve(expressMount('/ops', toNodeHandler(dashboard), teapot));
    expect(await (await fetch(`${other}/ops/`)).text()).toContain('<base href="/ops/">');
  });

  it('calls next for requests outside the basePath option when used as middleware', async () => {
    const { dashboard } = setup();
    const node = toNodeHandler(dashboard, { basePath: '/admin' });
    const origin = await serve((req, res) => node(req, res, () => teapot(res)));
    expect((await fetch(`${origin}/other/api/session`)).status).toBe(418);
    expect((await fetch(`${origin}/admin/api/session`)).status).toBe(200);
  });

  it('hands on a body that a body parser already read (express.json())', async () => {
    const { dashboard, jobs, memory } = setup();
    const id = await jobs.enqueueAutocommit(ping({}));
    const node = toNodeHandler(dashboard);
    const origin = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (chunks.length > 0) (req as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        node(req, res);
      });
    });
    const token = await sessionToken(origin, '');
    const response = await fetch(`${origin}/api/bulk`, { method: 'POST', headers: { origin, 'x-csrf-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'cancel', ids: [id] }) });
    expect(await response.json()).toEqual({ changed: [id] });
    expect(memory.rows()[0]!.state).toBe('cancelled');
  });

  it('streams server-sent events as they happen', async () => {
    const { dashboard, jobs } = setup({ events: { pollIntervalMs: 20 } });
    const origin = await serve(toNodeHandler(dashboard, { basePath: '/jobs' }));
    const abort = new AbortController();
    const response = await fetch(`${origin}/jobs/api/events`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = sseReader(response.body!);
    await countsWhere(reader, (d) => d.counts.length === 0);
    await jobs.enqueueAutocommit(ping({}));
    expect((await countsWhere(reader, (d) => d.counts.length > 0)).counts).toEqual([{ queue: 'default', state: 'available', count: 1, estimated: false }]);
    abort.abort();
  });

  it('ends the event stream on the server when the client goes away', async () => {
    // No heartbeat and no poll within the test: only the client's disconnect can end the stream.
    const { dashboard, log } = setup({ events: { pollIntervalMs: 3_600_000, heartbeatMs: 3_600_000 } });
    const origin = await serve(toNodeHandler(dashboard));
    const abort = new AbortController();
    const response = await fetch(`${origin}/api/events`, { signal: abort.signal });
    const reader = sseReader(response.body!);
    await countsWhere(reader, () => true);
    const closed = log.next(/event stream closed/);
    abort.abort();
    await closed;
    expect(log.lines.find((l) => /event stream closed/.test(l.message))?.fields).toEqual({ open: 0 });
  });
});
