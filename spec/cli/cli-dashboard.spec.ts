/**
 * `concordia dashboard`, end to end: the real binary is spawned on a SQLite file and on
 * PostgreSQL, its address read from what it prints, and the dashboard used over HTTP as a
 * browser and a script would: the page, the API, the token, the CSRF-protected actions,
 * read-only mode, and a clean stop on SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { createJobs, defineJob, type Adapter, type Jobs } from '../../lib/index.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import { ddl, isReachable, PG_URL, tempSqlitePath, uniqueTable } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { pgHarness } from '../support/harnesses.ts';
import { ioredisHarness, REDIS_URL } from '../support/redis-harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/concordia.ts', import.meta.url));
const TOKEN = 'a-test-token-of-more-than-16-characters';
/** Waits on a loaded 2-core machine: starting Node on TypeScript sources can take seconds. */
const SLOW = 60_000;

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', ...env };
  delete e['DATABASE_URL'];
  if (!('CONCORDIA_DASHBOARD_TOKEN' in env)) delete e['CONCORDIA_DASHBOARD_TOKEN'];
  return e;
}

/** Runs the binary to its end: for the invocations that must refuse to start. */
function runToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'dashboard', ...args], { cwd: root, env: childEnv(env), timeout: SLOW }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Running {
  child: ChildProcess;
  /** The address printed (the `url` of the JSON line with --json). */
  url: string;
  /** The first line of stdout. */
  first: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const started: ChildProcess[] = [];

/** Spawns `concordia dashboard` and resolves once it has printed its address (or fails with its output if it exits first). */
function startDashboard(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'dashboard', ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => (stderr += t));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      // stdio may still hold the last lines when 'exit' fires; 'close' comes after them.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (t: string) => {
      stdout += t;
      const first = stdout.split('\n')[0]!;
      if (!stdout.includes('\n')) return;
      const url = first.startsWith('{') ? (JSON.parse(first) as { url: string }).url : /https?:\/\/\S+/.exec(first)?.[0];
      if (url) resolve({ child, url, first, exited });
    });
    void exited.then((r) => reject(new Error(`concordia dashboard exited (${r.code ?? r.signal}) before printing its address:\n${r.stdout}${r.stderr}`)));
  });
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One HTTP request with exactly the headers given (fetch would add or refuse some, such as Host). */
function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (t: string) => (body += t));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.body) as Record<string, unknown>;
}

/** A POST the way the page sends it: same origin, with the CSRF token of `api/session`. */
async function post(base: string, path: string, auth: Record<string, string> = {}): Promise<Answer> {
  const session = json(await http(`${base}api/session`, { headers: auth }));
  expect(session['csrfToken']).toEqual(expect.any(String));
  return http(`${base}${path}`, { method: 'POST', headers: { ...auth, origin: new URL(base).origin, 'x-csrf-token': session['csrfToken'] as string } });
}

/** Opens the live-update stream, waits for its first bytes, and returns a promise of its end (in an object: an async function would wait for it). */
async function openStream(url: string, headers: Record<string, string> = {}): Promise<{ ended: Promise<void> }> {
  const stream = await new Promise<IncomingMessage>((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
      expect(res.statusCode).toBe(200);
      res.setEncoding('utf8');
      res.once('data', () => resolve(res));
    })
      .on('error', reject)
      .end();
  });
  return { ended: new Promise<void>((resolve) => stream.on('close', () => resolve())) };
}

/** Whether nothing listens on the port of `url` any more. */
async function refused(url: string): Promise<boolean> {
  try {
    await http(url);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ECONNREFUSED';
  }
}

afterAll(() => {
  // A failed assertion must not leave a server behind.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const mail = defineJob('dash_mail', { handler: async () => {} });

describe('concordia dashboard: refusals before anything is opened', () => {
  // A database path that does not exist: reaching the database would exit 3, so exit 2 shows the flags were checked first.
  const nowhere = ['--url', '/nonexistent/dir/app.db'];

  it('bad flags are usage errors (exit 2) with a clear message', { timeout: SLOW * 2 }, async () => {
    const cases: [string[], RegExp][] = [
      [['--port', '70000'], /--port must be an integer from 0 to 65535/],
      [['--port', 'abc'], /--port must be an integer from 0 to 65535.*"abc"/],
      [['--port=-1'], /--port must be an integer.*"-1"/],
      [['--base-path', '/admin/../x'], /--base-path must be an absolute path/],
      [['--base-path', 'admin'], /--base-path must be an absolute path/],
      [['--host', 'not a host'], /--host must be an IP address or a host name/],
      [['--table', 'Robert"); DROP'], /Invalid table name/],
      [['--db', '/other.db'], /--db is another name for --url/],
      [['extra'], /dashboard takes no arguments/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runToExit([...nowhere, ...args])));
    runs.forEach((run, i) => {
      expect({ args: cases[i]![0], code: run.code }).toEqual({ args: cases[i]![0], code: 2 });
      expect(run.stderr).toMatch(cases[i]![1]);
    });
  });

  it('refuses a non-loopback --host without a token, and a token too short to guard anything', { timeout: SLOW }, async () => {
    const open = await runToExit([...nowhere, '--host', '0.0.0.0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without a token.*CONCORDIA_DASHBOARD_TOKEN/);
    const json = await runToExit([...nowhere, '--host', '192.0.2.1', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 2 } });
    const short = await runToExit([...nowhere, '--host', '0.0.0.0'], { CONCORDIA_DASHBOARD_TOKEN: 'short' });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/CONCORDIA_DASHBOARD_TOKEN must be at least 16 characters/);
    // With a token the same host passes the checks, and the run gets as far as the database.
    const tokened = await runToExit([...nowhere, '--host', '0.0.0.0'], { CONCORDIA_DASHBOARD_TOKEN: TOKEN });
    expect(tokened).toMatchObject({ code: 3, stderr: expect.stringContaining('SQLite file not found') });
  });

  it('an unreachable database or a missing table exits 3', { timeout: SLOW }, async () => {
    const pg = await runToExit(['--url', 'postgres://postgres@127.0.0.1:1/test', '--port', '0']);
    expect(pg.code).toBe(3);
    expect(pg.stderr).toMatch(/Database error: .*ECONNREFUSED/);
    const path = tempSqlitePath();
    new Database(path).close();
    const noTable = await runToExit(['--db', path, '--port', '0']);
    expect(noTable.code).toBe(3);
    expect(noTable.stderr).toMatch(/The jobs table "concordia_jobs" does not exist/);
  });
});

describe('concordia dashboard on SQLite, on loopback without a token', () => {
  let path: string;
  let table: string;
  let db: Database.Database;
  let jobs: Jobs<unknown>;
  beforeAll(() => {
    path = tempSqlitePath();
    table = uniqueTable();
    db = new Database(path);
    for (const stmt of ddl('sqlite', table)) db.exec(stmt);
    jobs = createJobs({ adapter: betterSqlite3Adapter(db) as Adapter<unknown>, table });
  });
  afterAll(() => db?.close());

  it('serves the page and API, carries out an action, and stops on SIGTERM with a live stream open', { timeout: SLOW * 2 }, async () => {
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'emails' }), mail({}, { queue: 'emails' })]);
    const run = await startDashboard(['--db', path, '--table', table, '--port', '0', '--json']);
    expect(JSON.parse(run.first)).toMatchObject({ host: '127.0.0.1', basePath: '', table, readOnly: false, tokenRequired: false });
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await http(run.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<base href="/">');
    const overview = await http(`${run.url}api/overview`);
    expect(overview.status).toBe(200);
    expect(json(overview)['queues']).toEqual([{ name: 'emails', paused: false }]);
    expect(json(await http(`${run.url}api/session`))).toMatchObject({ principal: { id: 'cli', name: 'cli' }, readOnly: false, showArgs: false });

    const cancel = await post(run.url, `api/jobs/${id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(json(cancel)).toEqual({ changed: [id] });
    expect((await listEnqueued(jobs, { state: 'cancelled' })).map((j) => j.id)).toEqual([id]);

    // Addressed by another name (a DNS-rebinding page), the same loopback server refuses.
    const rebound = await http(`${run.url}api/overview`, { headers: { host: `evil.example:${new URL(run.url).port}` } });
    expect(rebound.status).toBe(403);
    expect(json(rebound)).toMatchObject({ error: { code: 'FORBIDDEN_HOST' } });

    // A live-update stream is open when the signal comes: the stop must end it, not wait for it.
    const { ended: streamEnded } = await openStream(`${run.url}api/events`);
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    await streamEnded;
    expect(await refused(run.url)).toBe(true);
  });
});

describe('concordia dashboard on PostgreSQL, with a token', () => {
  let available = true;
  let h: Awaited<ReturnType<typeof pgHarness>>;
  let jobs: Jobs<unknown>;
  beforeAll(async () => {
    available = await isReachable('postgres');
    if (!available) return;
    h = await pgHarness();
    jobs = createJobs({ adapter: h.adapter as Adapter<unknown>, table: h.table });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('needs the token (bearer, or ?token= once then its cookie), under a base path, on any host', { timeout: SLOW * 2 }, async (ctx) => {
    if (!available) return ctx.skip();
    await jobs.enqueueManyAutocommit([mail({}, { queue: 'reports' })]);
    const run = await startDashboard(['--url', PG_URL, '--table', h.table, '--port', '0', '--host', '0.0.0.0', '--base-path', '/admin/jobs/'], { CONCORDIA_DASHBOARD_TOKEN: TOKEN });
    expect(run.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/admin\/jobs\/$/);
    expect(run.first).toBe(`Concordia dashboard: ${run.url}`);
    const base = run.url.replace('0.0.0.0', '127.0.0.1');

    const anonymous = await http(`${base}api/overview`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await http(base)).status).toBe(401);
    expect((await http(`${base}api/overview`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await http(`${base}?token=wrong-token-wrong-token`)).status).toBe(401);

    const bearer = { authorization: `Bearer ${TOKEN}` };
    const overview = await http(`${base}api/overview`, { headers: bearer });
    expect(overview.status).toBe(200);
    expect(json(overview)['queues']).toEqual([{ name: 'reports', paused: false }]);

    // The browser's way: the token once in the address, then the cookie set by the redirect.
    const signIn = await http(`${base}?token=${TOKEN}&x=1`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe('/admin/jobs/?x=1');
    const cookie = signIn.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/; Path=\/admin\/jobs; HttpOnly; SameSite=Lax$/);
    expect(cookie).not.toContain(TOKEN);
    const withCookie = { cookie: cookie.split(';')[0]! };
    const forged = { cookie: `${withCookie.cookie.split('=')[0]}=forged-value` };
    expect((await http(base, { headers: forged })).status).toBe(401);
    const page = await http(base, { headers: withCookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<base href="/admin/jobs/">');
    const paused = await post(base, 'api/queues/reports/pause', withCookie);
    expect(paused.status).toBe(200);
    expect(json(paused)).toMatchObject({ queue: 'reports', paused: true, changed: true });
    expect(await jobs.pausedQueues()).toEqual(['reports']);

    // The root leads to the base path; the token guards it there.
    const rootAnswer = await http(base.replace('/admin/jobs/', '/'));
    expect(rootAnswer).toMatchObject({ status: 302, headers: { location: '/admin/jobs/' } });

    // On PostgreSQL the stream's feed holds a LISTEN connection: the stop must release it too.
    const { ended: streamEnded } = await openStream(`${base}api/events`, bearer);
    run.child.kill('SIGINT');
    expect(await run.exited).toMatchObject({ code: 0, signal: null });
    await streamEnded;
    expect(await refused(base)).toBe(true);
  });

  it('--read-only refuses actions that the CSRF token would otherwise allow; --args shows args', { timeout: SLOW }, async (ctx) => {
    if (!available) return ctx.skip();
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'read_only' })]);
    const run = await startDashboard(['--url', PG_URL, '--table', h.table, '--port', '0', '--read-only', '--args', '--json']);
    expect(JSON.parse(run.first)).toMatchObject({ readOnly: true, tokenRequired: false });
    expect(json(await http(`${run.url}api/session`))).toMatchObject({ readOnly: true, showArgs: true });
    const cancel = await post(run.url, `api/jobs/${id}/cancel`);
    expect(cancel.status).toBe(403);
    expect(json(cancel)).toMatchObject({ error: { code: 'READ_ONLY' } });
    expect((await listEnqueued(jobs, { state: 'available', queue: 'read_only' })).map((j) => j.id)).toEqual([id]);
    run.child.kill('SIGTERM');
    expect(await run.exited).toMatchObject({ code: 0 });
  });
});

describe('concordia dashboard on Redis (--url redis://…, --table the key prefix name)', () => {
  let h: Harness<unknown>;
  let jobs: Jobs<unknown>;
  beforeAll(async () => {
    h = (await ioredisHarness()) as Harness<unknown>;
    jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [mail] });
  });
  afterAll(() => h?.close());

  it('serves the overview, a job by its UUID, and a cancel action; stops on SIGTERM with a stream open', { timeout: SLOW * 2 }, async () => {
    const [id] = await jobs.enqueueManyAutocommit([mail({}, { queue: 'emails' }), mail({}, { queue: 'emails' })]);
    const run = await startDashboard(['--url', REDIS_URL, '--table', h.table, '--port', '0', '--json']);
    expect(JSON.parse(run.first)).toMatchObject({ table: h.table, readOnly: false });
    expect(json(await http(`${run.url}api/overview`))['queues']).toEqual([{ name: 'emails', paused: false }]);
    const detail = await http(`${run.url}api/jobs/${id}`);
    expect(detail.status).toBe(200);
    expect(json(detail)).toMatchObject({ id, state: 'available' });
    // A SQL-shaped id passes the HTTP layer's check (it serves every backend); Redis then answers for its own form.
    const numeric = await http(`${run.url}api/jobs/42`);
    const numericCursor = await http(`${run.url}api/jobs?cursor=42`);
    const numericAction = await post(run.url, 'api/jobs/42/cancel');
    for (const answer of [numeric, numericCursor, numericAction]) {
      expect(answer.status).toBe(400);
      expect(json(answer)).toMatchObject({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/must be a job id, got "42"/) } });
    }
    const cancel = await post(run.url, `api/jobs/${id}/cancel`);
    expect(json(cancel)).toEqual({ changed: [id] });
    expect((await listEnqueued(jobs, { state: 'cancelled' })).map((j) => j.id)).toEqual([id]);
    const { ended: streamEnded } = await openStream(`${run.url}api/events`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toMatchObject({ code: 0, signal: null });
    await streamEnded;
    expect(await refused(run.url)).toBe(true);
  });
});
