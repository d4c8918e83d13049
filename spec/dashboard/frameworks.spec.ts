/**
 * The framework samples of fixtures/dashboard-frameworks/: each app builds the dashboard from its
 * own Concordia client (better-sqlite3 on a file of its own), mounts it at a base path chosen
 * here, and keeps a route of its own beside it. Express, Fastify, Hono and Koa run on a real
 * server on port 0 and are reached with `fetch`; the Next.js route handlers are called the way
 * Next calls them (spec/dashboard/next-app-router.ts), since Next itself is not installed.
 *
 * Every sample gets the same checks: the page, an asset, the session, a state-changing request
 * with and without its CSRF token, the event stream, the app's own route and a path outside the
 * mount, and last the sample's own shutdown path with an event stream still open. That path calls
 * `dashboard.close()` and then a plain `server.close()` (or Fastify's `close()`), which waits for
 * every open request and forces none closed: an event stream the dashboard failed to end would
 * make the test time out.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve as serveHono } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, openAppJobs, sendInvoice, type SampleApp, type SampleOptions } from '../../fixtures/dashboard-frameworks/app-jobs.ts';
import { expressApp } from '../../fixtures/dashboard-frameworks/express.ts';
import { fastifyApp } from '../../fixtures/dashboard-frameworks/fastify.ts';
import { honoApp } from '../../fixtures/dashboard-frameworks/hono.ts';
import { koaApp } from '../../fixtures/dashboard-frameworks/koa.ts';
import { appJobs, closeAppJobs } from '../../fixtures/dashboard-frameworks/next/lib/jobs.ts';
import { CONTENT_SECURITY_POLICY } from '../../lib/dashboard/security-headers.ts';
import type { Jobs } from '../../lib/index.ts';
import { tempSqlitePath } from '../support/databases.ts';
import { countsWhere, recordingLogger, sseReader } from './dashboard-kit.ts';
import { nextAppRouter } from './next-app-router.ts';

/** One sample app, running. */
interface Running {
  /** The origin requests appear to come from (and so the `Origin` of a same-origin POST). */
  origin: string;
  /** Sends a request for `path` (from the root) to the app. */
  send(path: string, init?: RequestInit): Promise<Response>;
  /** The sample's shutdown path: its dashboard, then its server. */
  close(): Promise<void>;
}

interface Sample {
  name: string;
  basePath: string;
  /** The app's client: opened here for the servers, by the app itself for Next. */
  open(): { jobs: Jobs<unknown>; close(): void | Promise<void> };
  start(options: SampleOptions): Promise<Running>;
  /** Whether the sample's logger is the spec's (Next's route creates its dashboard on its own). */
  logs: boolean;
}

/** A started node:http server; `close()` is the samples' shutdown path (`closeServer`): the dashboard, then `server.close()`. */
async function onPortZero(server: Server, { dashboard }: Pick<SampleApp<unknown>, 'dashboard'>): Promise<Running> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  else await new Promise<void>((resolve) => (server.address() ? resolve() : server.once('listening', () => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    send: (path, init) => fetch(`${origin}${path}`, init),
    close: () => closeServer(server, dashboard),
  };
}

const nodeListener = (listener: RequestListener, sample: SampleApp<unknown>) => onPortZero(createServer(listener), sample);
const ownFile = () => {
  const app = openAppJobs(tempSqlitePath());
  return { jobs: app.jobs as Jobs<unknown>, close: app.close };
};

const samples: Sample[] = [
  { name: 'express', basePath: '/admin/jobs', open: ownFile, logs: true, start: async (options) => {
      const sample = expressApp(options);
      return nodeListener(sample.app, sample);
    },
  },
  {
    name: 'fastify',
    basePath: '/ops/queue',
    open: ownFile,
    logs: true,
    async start(options) {
      const app = await fastifyApp(options);
      const origin = await app.listen({ port: 0, host: '127.0.0.1' });
      return { origin, send: (path, init) => fetch(`${origin}${path}`, init), close: () => app.close() };
    },
  },
  {
    name: 'hono',
    basePath: '/internal/concordia',
    open: ownFile,
    logs: true,
    start: async (options) => {
      const sample = honoApp(options);
      return onPortZero(serveHono({ fetch: sample.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server, sample);
    },
  },
  {
    name: 'koa',
    basePath: '/ops/koa-jobs',
    open: ownFile,
    logs: true,
    start: async (options) => {
      const sample = koaApp(options);
      return nodeListener(sample.app.callback(), sample);
    },
  },
  {
    name: 'next',
    basePath: '/admin/jobs',
    logs: false,
    open() {
      process.env['JOBS_DATABASE'] = tempSqlitePath();
      return { jobs: appJobs().jobs as Jobs<unknown>, close: closeAppJobs };
    },
    async start() {
      const origin = 'http://localhost:3000';
      const route = nextAppRouter(fileURLToPath(new URL('../../fixtures/dashboard-frameworks/next/app/', import.meta.url)));
      // Next runs the server; the app's shutdown path is closeAppJobs(), which closes the dashboard first.
      return { origin, send: (path, init) => route(new Request(`${origin}${path}`, init)), close: closeAppJobs };
    },
  },
];

/** The auth hook of every sample reads this cookie. */
const SIGNED_IN = { cookie: 'operator=ada' };

describe.each(samples)('the $name sample', (sample) => {
  const { basePath } = sample;
  const log = recordingLogger();
  let app: ReturnType<Sample['open']>;
  let running: Running | undefined;

  beforeAll(async () => {
    app = sample.open();
    running = await sample.start({ jobs: app.jobs, basePath, logger: log.logger });
  });

  afterAll(async () => {
    // Already closed by the last test, unless a test failed before it.
    await running?.close();
    await app?.close();
  });

  const send = (path: string, init: RequestInit = {}) => running!.send(path, { ...init, headers: { ...SIGNED_IN, ...(init.headers as Record<string, string>) } });
  const token = async () => ((await (await send(`${basePath}/api/session`)).json()) as { csrfToken: string }).csrfToken;

  it('serves the page under the mount path, its base href set to the mount path', async () => {
    for (const path of [`${basePath}/`, basePath]) {
      const page = await send(path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain(`<base href="${basePath}/">`);
    }
  });

  it('serves the assets the page links to, under <mount>/assets/', async () => {
    const html = await (await send(`${basePath}/`)).text();
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
    expect(href).toMatch(/^assets\/app\.css\?v=/);
    // Resolved against the base href, as the browser does.
    const url = new URL(href!, `${running!.origin}${basePath}/`);
    expect(url.pathname).toBe(`${basePath}/assets/app.css`);
    const css = await send(`${url.pathname}${url.search}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toContain('immutable');
    expect((await css.text()).length).toBeGreaterThan(0);
  });

  it('answers api/session for the operator the auth hook finds in the request, and 401 without one', async () => {
    const session = await send(`${basePath}/api/session`);
    expect(session.status).toBe(200);
    const body = (await session.json()) as { principal: { id: string }; csrfToken: unknown };
    expect(body.principal.id).toBe('ada');
    expect(typeof body.csrfToken).toBe('string');
    const anonymous = await running!.send(`${basePath}/api/session`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('carries out a POST that has the CSRF token, and refuses one without it (403)', async () => {
    const { origin } = running!;
    const refused = await send(`${basePath}/api/queues/reports/pause`, { method: 'POST', headers: { origin } });
    expect(refused.status).toBe(403);
    expect(await app.jobs.pausedQueues()).not.toContain('reports');

    const csrf = await token();
    const paused = await send(`${basePath}/api/queues/emails/pause`, { method: 'POST', headers: { origin, 'x-csrf-token': csrf } });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ queue: 'emails', paused: true, changed: true });
    expect(await app.jobs.pausedQueues()).toContain('emails');

    // A JSON body reaches the dashboard whole, whatever the framework does with bodies.
    const id = await app.jobs.enqueueAutocommit(sendInvoice({ invoiceId: 7 }));
    const bulk = await send(`${basePath}/api/bulk`, {
      method: 'POST',
      headers: { origin, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'cancel', ids: [id] }),
    });
    expect(await bulk.json()).toEqual({ changed: [id] });
  });

  it('streams a counts event at api/events and ends the stream when the client goes away', async () => {
    const abort = new AbortController();
    const events = await send(`${basePath}/api/events`, { signal: abort.signal });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = sseReader(events.body!);
    const first = await countsWhere(reader, () => true);
    expect(Array.isArray(first.counts)).toBe(true);
    const closed = sample.logs ? log.next(/event stream closed/) : Promise.resolve();
    abort.abort();
    await closed;
    await reader.ended;
    if (sample.logs) expect(log.lines.findLast((l) => /event stream closed/.test(l.message))?.fields).toEqual({ open: 0 });
  });

  it("keeps the app's own route working beside the dashboard", async () => {
    const health = await send('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, app: sample.name });
  });

  it('leaves paths outside the mount to the app', async () => {
    for (const path of ['/api/session', `${basePath}x/api/session`, '/']) {
      const outside = await send(path);
      expect(outside.status, path).toBe(404);
      // Every dashboard answer, its own 404 included, carries its security policy.
      expect(outside.headers.get('content-security-policy'), path).not.toBe(CONTENT_SECURITY_POLICY);
      await outside.body?.cancel();
    }
  });

  it('shuts down through its own shutdown path while an event stream is still open', async () => {
    const events = await send(`${basePath}/api/events`);
    const reader = sseReader(events.body!);
    await countsWhere(reader, () => true);
    const stopping = running!;
    running = undefined;
    // Resolves only once every request on the server has ended, the stream's included: nothing is forced closed.
    await stopping.close();
    await reader.ended;
    expect(reader.raw()).toContain('event: counts');
  });
});
