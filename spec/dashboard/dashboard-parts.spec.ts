/**
 * The dashboard's pure parts: the filter a query string or a bulk body describes, the payload
 * rules (withheld, redacted, cut past 64 KiB with a marker), the route table and base paths.
 */
import { describe, expect, it } from 'vitest';
import { normalizeBasePath, routePath } from '../../lib/dashboard/base-path.ts';
import { filterFromJson, filterFromQuery, pageFromQuery } from '../../lib/dashboard/job-filter-query.ts';
import { matchRoute } from '../../lib/dashboard/router.ts';
import { MAX_SHOWN_BYTES, safeRedact, shownDetail, shownText } from '../../lib/dashboard/shown-payload.ts';
import type { JobDetail } from '../../lib/dashboard/dashboard-store.ts';

const q = (text: string) => new URLSearchParams(text);

describe('filterFromQuery', () => {
  it('reads states, kinds, queues (repeated or comma-separated), times and JSON path conditions', () => {
    expect(filterFromQuery(q('state=available,running&state=discarded&kind=send_email&queue=a&queue=b&from=1700000000000&to=2030-01-01T00:00:00Z&args=user.id=42&args=flag=true&meta=trace=abc&meta=n=null&args=code="42"'))).toEqual({
      states: ['available', 'running', 'discarded'],
      kinds: ['send_email'],
      queues: ['a', 'b'],
      createdFrom: 1700000000000,
      createdTo: Date.UTC(2030, 0, 1),
      args: [
        { path: ['user', 'id'], value: 42 },
        { path: ['flag'], value: true },
        { path: ['code'], value: '42' },
      ],
      metadata: [
        { path: ['trace'], value: 'abc' },
        { path: ['n'], value: null },
      ],
    });
    expect(filterFromQuery(q(''))).toEqual({});
    // A value with "=" in it keeps everything after the first one.
    expect(filterFromQuery(q(`args=${encodeURIComponent('query=a=b')}`)).args).toEqual([{ path: ['query'], value: 'a=b' }]);
  });

  it.each([
    'state=paused',
    'state=bogus',
    'kind=has space',
    'queue=' + 'x'.repeat(200),
    'from=yesterday',
    'to=1e30',
    'args=noequals',
    'args==v',
    'args=a..b=1',
    'meta=' + 'k.'.repeat(20) + 'k=1',
    'args=a=' + 'v'.repeat(2000),
    Array.from({ length: 9 }, (_, i) => `args=k${i}=1`).join('&'),
  ])('refuses %s with a 400, never widening the filter', (text) => {
    expect(() => filterFromQuery(q(text))).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_REQUEST' }));
  });

  it('reads a page: limit 1 to 100 (default 50), scan budget 1 to 100,000 (default 5,000) and a job id cursor', () => {
    expect(pageFromQuery(q(''))).toEqual({ limit: 50, scanLimit: 5_000 });
    expect(pageFromQuery(q('limit=100&cursor=123&scan=100000'))).toEqual({ limit: 100, cursor: '123', scanLimit: 100_000 });
    expect(pageFromQuery(q('scan=1')).scanLimit).toBe(1);
    for (const bad of ['limit=0', 'limit=101', 'limit=2.5', 'scan=0', 'scan=100001', 'scan=x', 'cursor=abc', 'cursor=-1', 'cursor=99999999999999999999']) {
      expect(() => pageFromQuery(q(bad)), bad).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('filterFromJson', () => {
  it('accepts the JobFilter shape and checks it like the query string', () => {
    const filter = { states: ['discarded'], kinds: ['ping'], queues: ['q'], createdFrom: 1, createdTo: 2, args: [{ path: ['a', 'b'], value: 1 }], metadata: [{ path: ['m'], value: null }] };
    expect(filterFromJson(filter)).toEqual(filter);
    expect(filterFromJson({})).toEqual({});
    for (const bad of [null, [], { states: 'discarded' }, { states: ['a,b'] }, { kinds: ['bad name'] }, { createdFrom: '1' }, { args: [{ path: [], value: 1 }] }, { args: [{ path: ['a'], value: {} }] }, { other: 1 }]) {
      expect(() => filterFromJson(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('payloads', () => {
  it('cut text past 64 KiB on a character boundary, with a marker and the full size', () => {
    expect(shownText('small')).toEqual({ text: 'small', bytes: 5, truncated: false });
    const exact = 'a'.repeat(MAX_SHOWN_BYTES);
    expect(shownText(exact).truncated).toBe(false);
    // "é" is two bytes: the cut falls inside one and backs up before it.
    const text = 'a'.repeat(MAX_SHOWN_BYTES - 1) + 'é'.repeat(10);
    const shown = shownText(text);
    expect(shown.truncated).toBe(true);
    expect(shown.bytes).toBe(MAX_SHOWN_BYTES - 1 + 20);
    expect(shown.text).toBe(`${'a'.repeat(MAX_SHOWN_BYTES - 1)}\n… [truncated: ${MAX_SHOWN_BYTES - 1} of ${MAX_SHOWN_BYTES + 19} bytes shown]`);
    expect(shown.text).not.toContain('\ufffd');
  });

  const job: JobDetail = {
    id: '7',
    queue: 'default',
    kind: 'ping',
    state: 'discarded',
    priority: 0,
    attempt: 1,
    maxAttempts: 1,
    runAt: new Date(0),
    createdAt: new Date(0),
    attemptedAt: new Date(0),
    finalizedAt: new Date(0),
    lockedBy: null,
    lastError: 'bad token sk_live_123',
    leaseExpiresAt: null,
    uniqueKey: null,
    args: JSON.stringify({ token: 'sk_live_123', blob: 'x'.repeat(100_000) }),
    metadata: '{"email":"a@b.example"}',
    errors: [{ attempt: 1, at: '2030-01-01T00:00:00.000Z', name: 'Error', message: 'bad token sk_live_123', stack: 'Error: bad token sk_live_123\n    at handler' }, 'not an object' as never],
  };
  const redact = safeRedact((text) => text.replace(/sk_live_\w+/g, '[secret]').replace(/(?<!\w)\w+@\w+\.example/g, '[email]'));

  it('withhold args and metadata unless shown, and redact errors either way', () => {
    const hidden = shownDetail(job, { showArgs: false, redact });
    expect([hidden.argsHidden, hidden.args, hidden.metadata]).toEqual([true, null, null]);
    expect(hidden.errors[0]).toMatchObject({ attempt: 1, name: 'Error', message: { text: 'bad token [secret]' }, stack: { text: 'Error: bad token [secret]\n    at handler' } });
    expect(hidden.errors[1]).toMatchObject({ attempt: null, message: { text: 'not an object' } });
    expect(hidden.lastError).toBe('bad token [secret]');
    expect(JSON.stringify(hidden)).not.toContain('sk_live');
  });

  it('redact before cutting, so a secret is masked even where the cut would fall', () => {
    const shown = shownDetail(job, { showArgs: true, redact });
    expect(shown.args!.truncated).toBe(true);
    expect(shown.args!.text.startsWith('{"token":"[secret]","blob":"xxx')).toBe(true);
    expect(shown.metadata).toEqual({ text: '{"email":"[email]"}', bytes: 19, truncated: false });
    expect(JSON.stringify(shown)).not.toMatch(/sk_live|a@b/);
  });

  it('never let raw text through when the redaction throws', () => {
    const broken = safeRedact(() => {
      throw new Error('regex failed');
    });
    expect(shownDetail(job, { showArgs: true, redact: broken }).args!.text).toBe('[redaction failed]');
  });
});

describe('routes and base paths', () => {
  it('match each route of the design note, and tell 404 from 405', () => {
    expect(matchRoute('GET', '/')).toMatchObject({ name: 'page' });
    expect(matchRoute('GET', '/assets/app.js')).toMatchObject({ name: 'asset', params: { rest: 'app.js' } });
    expect(matchRoute('GET', '/api/jobs/count')).toMatchObject({ name: 'jobs-count' });
    expect(matchRoute('GET', '/api/jobs/12')).toMatchObject({ name: 'job', params: { id: '12' } });
    expect(matchRoute('POST', '/api/jobs/12/run-now')).toMatchObject({ name: 'job-action', params: { id: '12', action: 'run-now' } });
    expect(matchRoute('POST', '/api/queues/a%3Ab/pause')).toMatchObject({ name: 'queue-action', params: { queue: 'a:b', action: 'pause' } });
    expect(matchRoute('HEAD', '/api/events')).toMatchObject({ name: 'events', head: true });
    expect(matchRoute('GET', '/api/jobs/')).toMatchObject({ name: 'jobs' });
    expect(() => matchRoute('POST', '/api/jobs')).toThrow(expect.objectContaining({ status: 405, headers: { allow: 'GET, HEAD' } }));
    expect(() => matchRoute('GET', '/api/unknown')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('GET', '/api/jobs/1/2/3')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('POST', '/api/queues/%E0%A4%A/pause')).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('normalize base paths and take them off request paths', () => {
    expect(['/', '', '/admin/', '/admin/jobs'].map((b) => normalizeBasePath(b))).toEqual(['', '', '/admin', '/admin/jobs']);
    expect(routePath('/admin/jobs/api/session', '/admin/jobs')).toBe('/api/session');
    expect(routePath('/admin/jobs', '/admin/jobs')).toBe('/');
    expect(routePath('/admin/jobsx/api', '/admin/jobs')).toBe('/admin/jobsx/api');
    expect(routePath('/api/session', '/admin/jobs')).toBe('/api/session');
  });
});
