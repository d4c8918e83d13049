/**
 * The dashboard handler on the memory adapter, called directly with web `Request`s: routing
 * under a base path chosen at run time, authorization, the write gate (read-only, same origin,
 * CSRF token), security headers, queue pause/resume, one-job and bulk actions, the cron view,
 * the live counts stream and the static files.
 *
 * Groups that need a storage method the dialects do not have yet (docs/design/dashboard.md,
 * section 1) are skipped, and say so, until it lands.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { createJobs, defineJob, FakeClock, periodic, type Jobs } from '../../lib/index.ts';
import { createDashboard, type DashboardAuditEvent, type DashboardOptions } from '../../lib/dashboard/index.ts';
import { CONTENT_SECURITY_POLICY } from '../../lib/dashboard/security-headers.ts';
import { StaticAssets } from '../../lib/dashboard/static-assets.ts';
import { countsWhere, recordingLogger, sseReader } from './dashboard-kit.ts';

const ping = defineJob('ping', { handler: async (_args: { user?: { id: number }; note?: string }) => {} });
const ORIGIN = 'http://dash.test';


function setup(options: Partial<DashboardOptions> = {}) {
  const memory = memoryAdapter();
  const jobs = createJobs({ adapter: memory, jobs: [ping] }) as Jobs<unknown>;
  const log = recordingLogger();
  const audits: DashboardAuditEvent[] = [];
  const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: log.logger, onAudit: (e) => void audits.push(e), ...options });
  return { memory, jobs, dashboard, log, audits };
}

type Handler = (request: Request) => Promise<Response>;

const get = (handler: Handler, path: string, headers: Record<string, string> = {}) => handler(new Request(`${ORIGIN}${path}`, { headers }));

async function tokenOf(handler: Handler, base = ''): Promise<string> {
  const response = await get(handler, `${base}/api/session`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { csrfToken: string }).csrfToken;
}

function post(handler: Handler, path: string, options: { token?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { origin: ORIGIN, ...options.headers };
  if (options.token !== undefined) headers['x-csrf-token'] = options.token;
  if (options.json !== undefined) headers['content-type'] ??= 'application/json';
  return handler(new Request(`${ORIGIN}${path}`, { method: 'POST', headers, body: options.json === undefined ? null : JSON.stringify(options.json) }));
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('routing under a base path chosen at run time', () => {
  it.each(['', '/admin/jobs', '/ops/queues/jobs'])('serves the page with <base href> of base path "%s" and the API under it', async (base) => {
    const { dashboard } = setup({ basePath: base || '/' });
    for (const path of [`${base}/`, base || '/']) {
      const page = await get(dashboard, path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain(`<base href="${base}/">`);
    }
    const session = await get(dashboard, `${base}/api/session`);
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ principal: { id: 'alice', name: 'alice' }, readOnly: false, showArgs: false, csrfToken: expect.any(String) });
  });

  it('takes the base path per request when the option is not set, so one instance serves several mounts', async () => {
    const { dashboard } = setup();
    for (const base of ['/a', '/b/c']) {
      const page = await dashboard.handle(new Request(`${ORIGIN}${base}/`), { basePath: base });
      expect(await page.text()).toContain(`<base href="${base}/">`);
      expect((await dashboard.handle(new Request(`${ORIGIN}${base}/api/session`), { basePath: base })).status).toBe(200);
    }
    expect(await (await get(dashboard, '/')).text()).toContain('<base href="/">');
  });

  it('accepts paths a framework already took the base path off', async () => {
    const { dashboard } = setup({ basePath: '/admin/jobs' });
    expect((await get(dashboard, '/api/session')).status).toBe(200);
    expect(await (await get(dashboard, '/')).text()).toContain('<base href="/admin/jobs/">');
  });

  it('escapes the base path in the page and refuses one that is not a plain absolute path', async () => {
    const { dashboard } = setup({ basePath: "/it's" });
    expect(await (await get(dashboard, "/it's/")).text()).toContain('<base href="/it&#39;s/">');
    for (const bad of ['admin', '/a/../b', '/a//b', '/a?x=1', '/a"><script>']) {
      expect(() => setup({ basePath: bad }), bad).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
  });

  it('answers unknown routes 404, wrong methods 405 with Allow, HEAD without a body', async () => {
    const { dashboard } = setup({ basePath: '/admin' });
    const notFound = await get(dashboard, '/admin/api/nope');
    expect(notFound.status).toBe(404);
    expect(await errorCode(notFound)).toBe('NOT_FOUND');
    const wrong = await dashboard(new Request(`${ORIGIN}/admin/api/session`, { method: 'DELETE' }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await errorCode(wrong)).toBe('METHOD_NOT_ALLOWED');
    const getAction = await get(dashboard, '/admin/api/jobs/1/retry');
    expect([getAction.status, getAction.headers.get('allow')]).toEqual([405, 'POST']);
    const head = await dashboard(new Request(`${ORIGIN}/admin/`, { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get(dashboard, '/admin/api/jobs/abc')).status).toBe(400);
  });
});

describe('security headers', () => {
  it('are on every answer: page, assets, API, errors and refusals', async () => {
    const { dashboard } = setup();
    const refusing = setup({ authorize: () => null }).dashboard;
    const answers = {
      page: await get(dashboard, '/'),
      asset: await get(dashboard, '/assets/app.css'),
      api: await get(dashboard, '/api/session'),
      notFound: await get(dashboard, '/api/nope'),
      refused: await get(refusing, '/api/session'),
      csrf: await post(dashboard, '/api/queues/q/pause'),
    };
    for (const [name, response] of Object.entries(answers)) {
      expect(response.headers.get('content-security-policy'), name).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), name).toBe('same-origin');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'");
    for (const name of ['page', 'api', 'notFound', 'refused', 'csrf'] as const) expect(answers[name].headers.get('cache-control'), name).toBe('no-store');
    expect(answers.api.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });
});

describe('authorization', () => {
  it('refuses with 401 when authorize returns null, before reading or changing anything', async () => {
    const seen: string[] = [];
    const { dashboard, jobs } = setup({
      authorize: (request) => {
        seen.push(new URL(request.url).pathname);
        return request.headers.get('authorization') === 'Bearer good' ? { id: 'u1', name: 'Alice' } : null;
      },
    });
    for (const path of ['/', '/assets/app.css', '/api/session', '/api/events', '/api/nope']) {
      const response = await get(dashboard, path);
      expect(response.status, path).toBe(401);
      expect(await errorCode(response)).toBe('UNAUTHORIZED');
    }
    expect((await post(dashboard, '/api/queues/q/pause', { token: 'x' })).status).toBe(401);
    expect(await jobs.pausedQueues()).toEqual([]);
    const allowed = await get(dashboard, '/api/session', { authorization: 'Bearer good' });
    expect(await allowed.json()).toMatchObject({ principal: { id: 'u1', name: 'Alice' } });
    expect(seen).toContain('/api/nope');
  });

  it('sends a Response that authorize returns as it is (a login redirect, a challenge)', async () => {
    const { dashboard } = setup({ authorize: () => new Response(null, { status: 302, headers: { location: '/login' } }) });
    const response = await get(dashboard, '/api/session');
    expect([response.status, response.headers.get('location')]).toEqual([302, '/login']);
  });

  it('allows everyone as "anonymous" without authorize, and warns once when created', async () => {
    const log = recordingLogger();
    const { dashboard } = setup({ authorize: undefined as never, logger: log.logger });
    expect(await (await get(dashboard, '/api/session')).json()).toMatchObject({ principal: { id: 'anonymous' } });
    await get(dashboard, '/api/session');
    expect(log.lines.filter((l) => l.level === 'warn' && /no `authorize`/.test(l.message))).toHaveLength(1);
    const quiet = recordingLogger();
    setup({ logger: quiet.logger });
    expect(quiet.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});

describe('state-changing requests', () => {
  it('are refused in read-only mode (403 READ_ONLY), even with a valid token from the same origin', async () => {
    const { dashboard, jobs, audits } = setup({ readOnly: true });
    const token = await tokenOf(dashboard);
    expect(await (await get(dashboard, '/api/session')).json()).toMatchObject({ readOnly: true });
    const response = await post(dashboard, '/api/queues/q/pause', { token });
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('READ_ONLY');
    const id = await jobs.enqueueAutocommit(ping({}));
    expect(await errorCode(await post(dashboard, `/api/jobs/${id}/cancel`, { token }))).toBe('READ_ONLY');
    expect(await jobs.pausedQueues()).toEqual([]);
    expect(audits).toEqual([]);
    expect((await get(dashboard, '/api/session')).status).toBe(200);
  });

  it('can be read-only for some principals only', async () => {
    const { dashboard } = setup({ authorize: (r) => r.headers.get('x-user'), readOnly: (p) => p !== 'admin' });
    const as = (user: string): Handler => (request) => {
      request.headers.set('x-user', user);
      return dashboard(request);
    };
    expect((await post(as('viewer'), '/api/queues/q/pause', { token: await tokenOf(as('viewer')) })).status).toBe(403);
    expect((await post(as('admin'), '/api/queues/q/pause', { token: await tokenOf(as('admin')) })).status).toBe(200);
  });

  it('need the CSRF token of this principal and this server: missing, wrong, foreign and expired tokens are refused', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const memory = memoryAdapter();
    const jobs = createJobs({ adapter: memory, clock }) as Jobs<unknown>;
    const logger = recordingLogger().logger;
    const make = (extra: Partial<DashboardOptions> = {}) => createDashboard({ jobs, logger, authorize: (r) => r.headers.get('x-user') ?? 'alice', ...extra });
    const dashboard = make();
    const token = await tokenOf(dashboard);
    const pause = (t?: string, headers?: Record<string, string>) => post(dashboard, '/api/queues/q/pause', { ...(t === undefined ? {} : { token: t }), ...(headers ? { headers } : {}) });
    const missing = await pause();
    expect([missing.status, await errorCode(missing)]).toEqual([403, 'CSRF_TOKEN_MISSING']);
    // The last character of the MAC also carries unused bits: another spelling of the same bytes is refused too.
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    const middle = token.length - 10;
    for (const wrong of ['nonsense', `${token}x`, token.replace(/.$/, flip), token.slice(0, middle) + flip(token[middle]!) + token.slice(middle + 1), await tokenOf(make())]) {
      const response = await pause(wrong);
      expect([response.status, await errorCode(response)], wrong).toEqual([403, 'CSRF_TOKEN_INVALID']);
    }
    // Issued to bob, sent by alice.
    const bobs = await tokenOf((request) => {
      request.headers.set('x-user', 'bob');
      return dashboard(request);
    });
    expect(await errorCode(await pause(bobs))).toBe('CSRF_TOKEN_INVALID');
    expect(await jobs.pausedQueues()).toEqual([]);
    expect((await pause(token)).status).toBe(200);
    // A day later the token has expired.
    await clock.advance(24 * 3600 * 1000 + 1);
    expect(await errorCode(await pause(token))).toBe('CSRF_TOKEN_INVALID');
    // Instances sharing a secret accept each other's tokens.
    const secret = 'a-secret-of-at-least-thirty-two-bytes!';
    expect((await post(make({ csrfSecret: secret }), '/api/queues/q/resume', { token: await tokenOf(make({ csrfSecret: secret })) })).status).toBe(200);
    expect(() => make({ csrfSecret: 'short' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('must come from the same origin (Sec-Fetch-Site, else Origin), even with a valid token', async () => {
    const { dashboard, jobs } = setup();
    const token = await tokenOf(dashboard);
    const refused: Record<string, string>[] = [
      { origin: 'http://evil.test' },
      { origin: 'http://dash.test.evil.test' },
      { origin: 'null' },
      { origin: ORIGIN, 'sec-fetch-site': 'cross-site' },
      { origin: ORIGIN, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of refused) {
      const response = await post(dashboard, '/api/queues/q/pause', { token, headers });
      expect([response.status, await errorCode(response)], JSON.stringify(headers)).toEqual([403, 'CROSS_ORIGIN']);
    }
    const bare = await dashboard(new Request(`${ORIGIN}/api/queues/q/pause`, { method: 'POST', headers: { 'x-csrf-token': token } }));
    expect(await errorCode(bare)).toBe('CROSS_ORIGIN');
    expect(await jobs.pausedQueues()).toEqual([]);
    const fetchMetadata = await dashboard(new Request(`${ORIGIN}/api/queues/q/pause`, { method: 'POST', headers: { 'x-csrf-token': token, 'sec-fetch-site': 'same-origin' } }));
    expect(fetchMetadata.status).toBe(200);
  });
});

describe('queues', () => {
  it('pause and resume round trip, visible to the client and audited with the principal', async () => {
    const { dashboard, jobs, audits } = setup();
    const token = await tokenOf(dashboard);
    const pause = await post(dashboard, '/api/queues/emails/pause', { token });
    expect(await pause.json()).toEqual({ queue: 'emails', paused: true, changed: true });
    expect(await jobs.pausedQueues()).toEqual(['emails']);
    expect(await (await post(dashboard, '/api/queues/emails/pause', { token })).json()).toMatchObject({ changed: false });
    expect(await (await post(dashboard, '/api/queues/emails/resume', { token })).json()).toEqual({ queue: 'emails', paused: false, changed: true });
    expect(await jobs.pausedQueues()).toEqual([]);
    expect(audits.map((a) => ({ ...a, at: undefined }))).toEqual([
      { target: 'queue', action: 'pause', principal: 'alice', queue: 'emails', changed: true, at: undefined },
      { target: 'queue', action: 'pause', principal: 'alice', queue: 'emails', changed: false, at: undefined },
      { target: 'queue', action: 'resume', principal: 'alice', queue: 'emails', changed: true, at: undefined },
    ]);
    expect(audits[0]!.at).toBeInstanceOf(Date);
    expect((await post(dashboard, '/api/queues/bad%20name/pause', { token })).status).toBe(400);
    expect((await post(dashboard, '/api/queues/emails/drain', { token })).status).toBe(404);
  });
});

describe('job actions', () => {
  it('cancel and retry one job, audited; other actions or ids are refused', async () => {
    const { dashboard, jobs, memory, audits } = setup();
    const token = await tokenOf(dashboard);
    const id = await jobs.enqueueAutocommit(ping({}));
    expect(await (await post(dashboard, `/api/jobs/${id}/cancel`, { token })).json()).toEqual({ changed: [id] });
    expect(memory.rows().find((r) => String(r.id) === id)?.state).toBe('cancelled');
    expect(await (await post(dashboard, `/api/jobs/${id}/cancel`, { token })).json()).toEqual({ changed: [] });
    expect(await (await post(dashboard, `/api/jobs/${id}/retry`, { token })).json()).toEqual({ changed: [id] });
    expect(memory.rows().find((r) => String(r.id) === id)).toMatchObject({ state: 'available', attempt: 0 });
    expect(audits.map((a) => [a.action, a.principal, 'ids' in a ? a.ids : null, a.changed])).toEqual([
      ['cancel', 'alice', [id], [id]],
      ['cancel', 'alice', [id], []],
      ['retry', 'alice', [id], [id]],
    ]);
    expect((await post(dashboard, `/api/jobs/${id}/explode`, { token })).status).toBe(404);
    expect((await post(dashboard, '/api/jobs/99999999999999999999/retry', { token })).status).toBe(400);
  });

  it('act on a selection of ids in bulk', async () => {
    const { dashboard, jobs, memory } = setup();
    const token = await tokenOf(dashboard);
    const [a, b, c] = [await jobs.enqueueAutocommit(ping({})), await jobs.enqueueAutocommit(ping({})), await jobs.enqueueAutocommit(ping({}))];
    const response = await post(dashboard, '/api/bulk', { token, json: { action: 'cancel', ids: [a, b, a] } });
    const { changed } = (await response.json()) as { changed: string[] };
    expect(changed.sort()).toEqual([a, b].sort());
    expect(memory.rows().map((r) => r.state)).toEqual(['cancelled', 'cancelled', 'available']);
    expect(c).toBeDefined();
  });

  it('refuse malformed bulk requests', async () => {
    const { dashboard } = setup();
    const token = await tokenOf(dashboard);
    const cases: [unknown, number][] = [
      [{ action: 'cancel', ids: [] }, 400],
      [{ action: 'cancel', ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) }, 400],
      [{ action: 'cancel', ids: ['1'], filter: {}, expected: 1 }, 400],
      [{ action: 'cancel', filter: {} }, 400],
      [{ action: 'cancel', filter: {}, expected: 10_001 }, 400],
      [{ action: 'cancel', filter: { states: ['nope'] }, expected: 1 }, 400],
      [{ action: 'cancel', filter: { color: 'red' }, expected: 1 }, 400],
      [{ action: 'explode', ids: ['1'] }, 400],
      [{ action: 'cancel', ids: [1] }, 400],
      [[], 400],
    ];
    for (const [json, status] of cases) expect((await post(dashboard, '/api/bulk', { token, json })).status, JSON.stringify(json)).toBe(status);
    const text = await post(dashboard, '/api/bulk', { token, headers: { 'content-type': 'text/plain' }, json: { action: 'cancel', ids: ['1'] } });
    expect([text.status, await errorCode(text)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await post(dashboard, '/api/bulk', { token, json: { action: 'cancel', ids: ['1'], pad: 'x'.repeat(1024 * 1024) } });
    expect([big.status, await errorCode(big)]).toEqual([413, 'BODY_TOO_LARGE']);
  });
});

describe('overview', () => {
  it('answers without throughput, which has its own endpoint serving one read for a minute', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 12, 30));
    const jobs = createJobs({ adapter: memoryAdapter(), clock, jobs: [ping] }) as Jobs<unknown>;
    const backend = jobs.backend as unknown as { throughput: (ex: unknown, p: { sinceMs: number; untilMs?: number; bucketMs: number }) => Promise<unknown> };
    const real = backend.throughput.bind(backend);
    const reads: number[] = [];
    let fail = false;
    backend.throughput = async (ex, p) => {
      reads.push(p.sinceMs);
      if (fail) throw new Error('database gone');
      return real(ex, p);
    };
    const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: recordingLogger().logger });
    const throughput = async () => {
      const response = await get(dashboard, '/api/throughput');
      return { status: response.status, body: (await response.json()) as { throughput: { at: string; completed: number }[]; readAt: string } };
    };

    const overview = (await (await get(dashboard, '/api/overview')).json()) as Record<string, unknown>;
    expect(Object.keys(overview).sort()).toEqual(['counts', 'queues', 'running']);
    expect(reads).toEqual([]);

    const first = await throughput();
    expect(first.status).toBe(200);
    expect(first.body.readAt).toBe('2030-01-01T12:30:00.000Z');
    expect(first.body.throughput).toHaveLength(25); // 12:00 yesterday to 12:00 today, by hour
    // Within the minute the same read answers; then a new one, for the day ending now.
    await clock.advance(59_999);
    expect((await throughput()).body).toEqual(first.body);
    expect(reads).toHaveLength(1);
    await clock.advance(1);
    const fresh = await throughput();
    expect(reads).toEqual([Date.UTC(2029, 11, 31, 12, 30), Date.UTC(2029, 11, 31, 12, 31)]);
    expect(fresh.body.readAt).toBe('2030-01-01T12:31:00.000Z');

    // A failed read is not kept: the next request reads again.
    await clock.advance(60_000);
    fail = true;
    expect((await throughput()).status).toBe(500);
    fail = false;
    expect((await throughput()).status).toBe(200);
    expect(reads).toHaveLength(4);
  });
});

describe('cron view', () => {
  it('lists the periodic jobs with their previous and next slots', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 7, 30));
    const jobs = createJobs({ adapter: memoryAdapter(), clock, jobs: [ping] }) as Jobs<unknown>;
    const dashboard = createDashboard({
      jobs,
      authorize: () => 'alice',
      periodic: [periodic('five-minutes', '*/5 * * * *', ping({})), periodic('paris-nightly', { cron: '0 3 * * *', timezone: 'Europe/Paris' }, ping({}), { queue: 'nightly' }), periodic('hourly', { everyMs: 3_600_000 }, ping({}))],
    });
    const body = (await (await get(dashboard, '/api/cron')).json()) as { periodic: Record<string, unknown>[] };
    expect(body.periodic.map(({ lastJob: _, ...entry }) => entry)).toEqual([
      {
        name: 'five-minutes',
        schedule: '*/5 * * * *',
        kind: 'ping',
        queue: 'default',
        previous: '2030-01-01T00:05:00.000Z',
        next: ['2030-01-01T00:10:00.000Z', '2030-01-01T00:15:00.000Z', '2030-01-01T00:20:00.000Z', '2030-01-01T00:25:00.000Z', '2030-01-01T00:30:00.000Z'],
      },
      {
        name: 'paris-nightly',
        schedule: '0 3 * * * (Europe/Paris)',
        kind: 'ping',
        queue: 'nightly',
        previous: '2029-12-31T02:00:00.000Z',
        next: ['2030-01-01T02:00:00.000Z', '2030-01-02T02:00:00.000Z', '2030-01-03T02:00:00.000Z', '2030-01-04T02:00:00.000Z', '2030-01-05T02:00:00.000Z'],
      },
      {
        name: 'hourly',
        schedule: 'every 3600000 ms',
        kind: 'ping',
        queue: 'default',
        previous: '2030-01-01T00:00:00.000Z',
        next: ['2030-01-01T01:00:00.000Z', '2030-01-01T02:00:00.000Z', '2030-01-01T03:00:00.000Z', '2030-01-01T04:00:00.000Z', '2030-01-01T05:00:00.000Z'],
      },
    ]);
    expect(() => createDashboard({ jobs, authorize: () => 'a', periodic: [{ name: 'x' }] as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('live updates', () => {
  it('stream a counts event at once and another after an enqueue, framed as server-sent events, with heartbeats', async () => {
    const { dashboard, jobs, log } = setup({ events: { pollIntervalMs: 20, heartbeatMs: 20 } });
    const abort = new AbortController();
    const response = await dashboard(new Request(`${ORIGIN}/api/events`, { signal: abort.signal }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const reader = sseReader(response.body!);
    expect(await reader.next((i) => i.retry !== undefined)).toEqual({ retry: 3000 });
    expect(await countsWhere(reader, () => true)).toEqual({ counts: [], paused: [] });
    await jobs.enqueueAutocommit(ping({}), { queue: 'emails' });
    expect(await countsWhere(reader, (d) => d.counts.length > 0)).toEqual({ counts: [{ queue: 'emails', state: 'available', count: 1, estimated: false }], paused: [] });
    await jobs.pauseQueue('emails');
    expect((await countsWhere(reader, (d) => d.paused.length > 0)).paused).toEqual(['emails']);
    await reader.next((i) => i.comment === 'heartbeat');
    // Every event is `event:` + one `data:` line + a blank line.
    expect(reader.raw()).toMatch(/^retry: 3000\n: connected\n\n(event: counts\ndata: \{.*\}\n\n|: heartbeat\n\n)+/);
    const closed = log.next(/event stream closed/);
    abort.abort();
    await closed;
    await reader.ended;
  });

  it('send a counts event only when the counts change', async () => {
    // A fake clock drives the polls, so the test knows how many ran.
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const jobs = createJobs({ adapter: memoryAdapter(), clock, jobs: [ping] }) as Jobs<unknown>;
    const dashboard = createDashboard({ jobs, authorize: () => 'alice', events: { pollIntervalMs: 10, heartbeatMs: 3_600_000 } });
    const response = await dashboard(new Request(`${ORIGIN}/api/events`));
    const reader = sseReader(response.body!);
    await countsWhere(reader, () => true);
    // Ten polls read the same counts: none of them sends an event.
    await clock.advance(100);
    const id = await jobs.enqueueAutocommit(ping({}));
    await clock.advance(10);
    expect((await countsWhere(reader, () => true)).counts).toEqual([{ queue: 'default', state: 'available', count: 1, estimated: false }]);
    await jobs.cancel(id);
    await clock.advance(10);
    expect((await countsWhere(reader, () => true)).counts).toEqual([{ queue: 'default', state: 'cancelled', count: 1, estimated: false }]);
    await response.body!.cancel().catch(() => {});
  });
});

describe('static files', () => {
  it('link assets with a content hash: versioned URLs are immutable, others revalidate; sources are never served', async () => {
    const { dashboard } = setup();
    const html = await (await get(dashboard, '/')).text();
    const link = /href="(assets\/app\.css\?v=([\w-]+))"/.exec(html);
    expect(link, html).not.toBeNull();
    const versioned = await get(dashboard, `/${link![1]}`);
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const plain = await get(dashboard, '/assets/app.css');
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    const etag = plain.headers.get('etag')!;
    expect(etag).toBe(`"${link![2]}"`);
    expect((await get(dashboard, '/assets/app.css', { 'if-none-match': etag })).status).toBe(304);
    for (const path of ['/assets/app.ts', '/assets/tsconfig.json', '/assets/../create-dashboard.ts', '/assets/%2e%2e/create-dashboard.ts', '/assets/.hidden.css', '/assets/nope.js']) {
      expect((await get(dashboard, path)).status, path).toBe(404);
    }
  });

  it('build into the layout the handler serves: compiled script, page and styles, no sources', async () => {
    const out = mkdtempSync(join(tmpdir(), 'concordia-ui-'));
    try {
      execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build-dashboard-ui.ts'), out], { stdio: 'pipe' });
      expect(readdirSync(out).sort()).toEqual(['api.js', 'app.css', 'app.js', 'cron.js', 'dom.js', 'index.html', 'job-detail.js', 'jobs.js', 'overview.js']);
      const assets = new StaticAssets(out);
      const script = await assets.asset('app.js', new Request(`${ORIGIN}/assets/app.js`), false);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const source = await script.text();
      expect(source).toContain("new EventSource('api/events')");
      // The modules app.js imports load by their plain names, revalidated (no-cache), so an upgrade reaches them too.
      expect(source).toMatch(/from ["']\.\/api\.js["']/);
      const imported = await assets.asset('api.js', new Request(`${ORIGIN}/assets/api.js`), false);
      expect(imported.status).toBe(200);
      expect(imported.headers.get('cache-control')).toBe('no-cache');
      const page = await (await assets.page('/x/', false)).text();
      expect(page).toMatch(/<script type="module" src="assets\/app\.js\?v=[\w-]+"><\/script>/);
      expect(page).not.toMatch(/<script>|<script type="module">/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

