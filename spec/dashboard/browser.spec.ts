/**
 * The dashboard page in a real browser (Debian's chromium through playwright-core, which never
 * downloads one), served by `toNodeHandler` on a real node:http server against real databases,
 * from the built page and scripts (scripts/build-dashboard-ui.ts runs first). Every wait is for
 * something the page or the database shows, never a fixed delay.
 *
 * Without /usr/bin/chromium the suite is skipped, except in CI, where it fails.
 *
 * `DASHBOARD_SCREENSHOTS=1 npx vitest run spec/dashboard/browser.spec.ts` also saves the README's
 * screenshots (docs/screenshots/, from the PostgreSQL run); other runs leave them alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDashboard, toNodeHandler, type NodeHandler } from '../../lib/dashboard/index.ts';
import { createJobs, defineJob, periodic, type Jobs, type Worker } from '../../lib/index.ts';
import { isReachable, type Db } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { betterSqlite3Harness, mysql2Harness, pgHarness } from '../support/harnesses.ts';
import { ioredisHarness, redisReachable } from '../support/redis-harness.ts';
import { listen } from './dashboard-kit.ts';

/**
 * The browser globals the functions handed to the page use. They run in chromium, but this file
 * is compiled with the specs, which have Node's types and not the DOM's.
 */
interface PageElement {
  textContent: string | null;
  src?: string;
  style: { width: string };
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}
declare const document: {
  body: { append(...nodes: PageElement[]): void; dataset: Record<string, string | undefined> };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getElementById(id: string): PageElement | null;
  createElement(tag: string): PageElement;
};
declare const location: { hash: string };
declare function getComputedStyle(element: PageElement): { width: string };

const built = vi.hoisted(() => ({ dir: '' }));
// The sources hold the page's TypeScript, not its scripts: serve the folder built by the script.
vi.mock('../../lib/dashboard/static-assets.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/dashboard/static-assets.ts')>();
  class BuiltAssets extends original.StaticAssets {
    constructor() {
      super(built.dir);
    }
  }
  return { ...original, StaticAssets: BuiltAssets };
});

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env['CI']) throw new Error(`${CHROMIUM} is missing: CI must run the dashboard's browser tests.`);

const WAIT = { timeout: 20_000 };
const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');

const ping = defineJob('ping', { handler: async (_args: { n?: number }) => {} });
const failing = defineJob('charge-card', {
  maxAttempts: 1,
  handler: async (_args: { order: number }) => {
    throw new Error('card declined <img src=x onerror=alert(1)>');
  },
});
/** Ends the attempts of `blocking` still running (or its attempt is aborted). */
let releaseBlocked: () => void = () => {};
/** Runs until the test releases it, so the dashboard finds it running. */
const blocking = defineJob('export-report', {
  handler: async (_args: Record<string, never>, ctx) => {
    await new Promise<void>((resolve) => {
      releaseBlocked = resolve;
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  },
});

/** What Express does before a middleware mounted with `app.use(mount, …)` runs (see dashboard-node.spec.ts). */
function expressMount(mount: string, handler: NodeHandler) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const r = req as IncomingMessage & { originalUrl?: string; baseUrl?: string };
    const url = req.url ?? '/';
    const next = () => {
      res.statusCode = 404;
      res.end('outside the dashboard');
    };
    if (url !== mount && !url.startsWith(`${mount}/`) && !url.startsWith(`${mount}?`)) return next();
    r.originalUrl = url;
    r.baseUrl = mount;
    req.url = url.slice(mount.length) || '/';
    handler(req, res, next);
  };
}

let browser: Browser;

beforeAll(async () => {
  if (!hasBrowser) return;
  built.dir = join(tmpdir(), `concordia-dashboard-ui-${process.pid}`);
  execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build-dashboard-ui.ts'), built.dir], { stdio: 'pipe' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (built.dir) rmSync(built.dir, { recursive: true, force: true });
});

const suites: { db: Db | 'redis'; name: string; harness: () => Promise<Harness<unknown>>; screenshots: boolean }[] = [
  { db: 'postgres', name: 'PostgreSQL (pg)', harness: pgHarness as () => Promise<Harness<unknown>>, screenshots: true },
  { db: 'mysql', name: 'MariaDB (mysql2)', harness: mysql2Harness as () => Promise<Harness<unknown>>, screenshots: false },
  { db: 'sqlite', name: 'SQLite (better-sqlite3)', harness: betterSqlite3Harness as () => Promise<Harness<unknown>>, screenshots: false },
  // Job ids are UUIDv7 strings there: links, cursors and row selection must not assume numbers.
  { db: 'redis', name: 'Redis (ioredis)', harness: ioredisHarness as () => Promise<Harness<unknown>>, screenshots: false },
];

for (const suite of suites) {
  const reachable = hasBrowser && (suite.db === 'sqlite' || (suite.db === 'redis' ? await redisReachable() : await isReachable(suite.db)));

  describe.skipIf(!reachable)(`dashboard page in chromium on ${suite.name}`, { timeout: 90_000 }, () => {
    let h: Harness<unknown>;
    let jobs: Jobs<unknown>;
    let context: BrowserContext;
    let page: Page;
    let root: string;
    let mounted: string;
    let readOnlyRoot: string;
    const closers: (() => Promise<void>)[] = [];
    const cspViolations: string[] = [];
    const pageErrors: string[] = [];

    const stateOf = async (id: string) => (await h.rows()).find((r) => String(r.id) === id)?.state;
    const text = (selector: string, want: string) =>
      page.waitForFunction(([s, w]) => document.querySelector(s!)?.textContent?.trim() === w, [selector, want] as const, WAIT);
    const shot = async (name: string) => {
      if (!suite.screenshots || !process.env['DASHBOARD_SCREENSHOTS']) return;
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    };

    beforeAll(async () => {
      h = await suite.harness();
      closers.push(() => h.close());
      jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [ping, failing, blocking] }) as Jobs<unknown>;
      const dashboard = createDashboard({
        jobs,
        authorize: () => ({ id: 'u-1', name: 'Ops' }),
        showArgs: true,
        periodic: [periodic('nightly-digest', '0 3 * * *', ping({}), { queue: 'digests' })],
        logger: { warn: () => {}, error: (m) => pageErrors.push(`server: ${m}`) },
        // Jobs finishing send no notification: poll often, so the page sees them soon.
        events: { pollIntervalMs: 200, heartbeatMs: 60_000 },
      });
      const direct = await listen(toNodeHandler(dashboard));
      closers.push(direct.close);
      root = `${direct.origin}/`;
      const viaExpress = await listen(expressMount('/admin/jobs', toNodeHandler(dashboard)));
      closers.push(viaExpress.close);
      mounted = `${viaExpress.origin}/admin/jobs/`;
      const readOnly = await listen(toNodeHandler(createDashboard({ jobs, authorize: () => 'support', readOnly: true, logger: { warn: () => {}, error: (m) => pageErrors.push(`server: ${m}`) } })));
      closers.push(readOnly.close);
      readOnlyRoot = `${readOnly.origin}/`;
      context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
      page = await context.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      for (const close of closers.reverse()) await close();
    });

    it('shows live counts: an enqueue from outside changes the number on the page', async () => {
      await jobs.enqueueAutocommit(ping({}), { queue: 'live' });
      await page.goto(root);
      const cell = '#counts tr[data-queue="live"] td[data-state="available"]';
      await text(cell, '1');
      await jobs.enqueueAutocommit(ping({}), { queue: 'live' });
      await jobs.enqueueAutocommit(ping({}), { queue: 'live' });
      await text(cell, '3');
      expect(pageErrors).toEqual([]);
    });

    it('shows a change whose live event arrived while the overview was still loading', async () => {
      await page.goto(`${root}#/cron`);
      await page.locator('#cron').waitFor();
      await page.waitForFunction(() => document.body.dataset['liveEvents'] !== undefined);
      const cell = '#counts tr[data-queue="late"] td[data-state="available"]';
      // Hold the overview's own read back until the stream has delivered the enqueue that
      // came after that read: the view must still end on the stream's newer counts.
      await page.route(
        '**/api/overview',
        async (route) => {
          const response = await route.fetch();
          const seen = await page.evaluate(() => Number(document.body.dataset['liveEvents']));
          await jobs.enqueueAutocommit(ping({}), { queue: 'late', delayMs: 3_600_000 });
          await page.waitForFunction((n) => Number(document.body.dataset['liveEvents']) > n, seen, WAIT);
          await route.fulfill({ response });
        },
        { times: 1 },
      );
      await page.click('nav a[data-view=overview]');
      await text(cell, '1');
    });

    it('opens the live stream again after an answer that is not a stream (a 503 while the server shut down)', async () => {
      // The browser gives up on an EventSource for good after such an answer; the page must not.
      let refused = 0;
      await page.route(
        '**/api/events',
        async (route) => {
          refused++;
          await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"SHUTTING_DOWN"}}' });
        },
        { times: 2 },
      );
      // A fresh page (a change of hash alone would keep the page, and its stream, as they are).
      await page.goto('about:blank');
      await page.goto(`${root}#/cron`);
      await page.locator('#cron').waitFor();
      await page.waitForFunction(() => document.body.dataset['live'] === 'open', undefined, WAIT);
      expect(refused).toBe(2);
      await jobs.enqueueAutocommit(ping({}), { queue: 'after_503', delayMs: 3_600_000 });
      await page.click('nav a[data-view=overview]');
      await text('#counts tr[data-queue="after_503"] td[data-state="available"]', '1');
    });

    it('shows the overview before its throughput, which loads after it', async () => {
      // Hold the throughput read back until the rest of the overview is on screen.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route(
        '**/api/throughput',
        async (route) => {
          const response = await route.fetch();
          await held;
          await route.fulfill({ response });
        },
        { times: 1 },
      );
      await page.goto(`${root}#/cron`);
      await page.locator('#cron').waitFor();
      await page.click('nav a[data-view=overview]');
      await page.locator('#counts').waitFor();
      await text('#throughput', 'Loading…');
      release();
      await page.locator('#throughput >> text=/As of /').waitFor();
      expect(pageErrors).toEqual([]);
    });

    it('filters by state, opens a job whose error stays text, and retries it (the row changes in the table)', async () => {
      const worker: Worker = jobs.createWorker({ queues: ['payments'] });
      let left = 3;
      const discarded = new Promise<void>((resolve) => worker.on('job:discarded', () => --left === 0 && resolve()));
      for (let order = 1; order <= 3; order++) await jobs.enqueueAutocommit(failing({ order }), { queue: 'payments' });
      await jobs.enqueueAutocommit(ping({}), { queue: 'payments', delayMs: 3_600_000 });
      await worker.start();
      await discarded;
      await worker.stop();

      await page.goto(`${root}#/jobs?queue=payments`);
      await page.locator('#end-of-list').waitFor();
      expect(await page.locator('#jobs tbody tr').count()).toBe(4);
      await page.selectOption('select[name=state]', 'discarded');
      await page.click('#filters button[type=submit]');
      await page.waitForFunction(() => location.hash.includes('state=discarded'));
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 3 && !document.querySelector('#jobs tbody tr:not([data-state=discarded])'));
      await shot('jobs');

      const first = page.locator('#jobs tbody tr').first();
      const id = (await first.getAttribute('data-id'))!;
      await first.locator('a').click();
      await text('#job-state', 'discarded');
      const error = page.locator('#errors li').first();
      await expect.poll(() => error.textContent()).toContain('card declined <img src=x onerror=alert(1)>');
      expect(await page.locator('#errors img').count()).toBe(0); // shown as text, never parsed as markup
      expect(JSON.parse((await page.locator('#args pre').textContent())!)).toEqual({ order: expect.any(Number) });
      expect(await page.locator('#timeline [data-field=finalized]').textContent()).not.toBe('–');
      await shot('job');

      await page.click('#job-actions button[data-action=retry]');
      await text('#job-state', 'available');
      expect(await stateOf(id)).toBe('available');
    });

    it('pages with "Load more" until the server has no next cursor', async () => {
      for (let i = 0; i < 5; i++) await jobs.enqueueAutocommit(ping({ n: i }), { queue: 'pages', delayMs: 3_600_000 });
      await page.goto(`${root}#/jobs?queue=pages&limit=2`);
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 2);
      await page.click('#load-more');
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 4);
      await page.click('#load-more');
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 5);
      // The third page had one job and may still carry a cursor; the list ends when one comes back empty.
      if (await page.locator('#load-more').count()) await page.click('#load-more');
      await page.locator('#end-of-list').waitFor();
      const ids = await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
      expect(new Set(ids).size).toBe(5);
    });

    it('follows empty pages of a rare kind by itself until its job shows, with no click', async () => {
      // One rare job under 300 newer ones of another kind; a scan budget of 100 gives the list
      // three empty pages (each with a `next`) before the page that holds it.
      const rare = await jobs.enqueueAutocommit(failing({ order: 0 }), { queue: 'haystack', delayMs: 3_600_000 });
      await jobs.enqueueManyAutocommit(Array.from({ length: 300 }, (_, n) => ping({ n })), { queue: 'haystack', delayMs: 3_600_000 });
      // Hold the first followed page until the searching state is on screen, so the test sees it.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const followed = (url: URL) => url.pathname.endsWith('/api/jobs') && url.searchParams.has('cursor') && url.searchParams.get('kind') === 'charge-card';
      await page.route(
        followed,
        async (route) => {
          await held;
          await route.continue();
        },
        { times: 1 },
      );
      await page.goto(`${root}#/jobs?queue=haystack&kind=charge-card&scan=100`);
      await page.locator('#searching').waitFor();
      expect(await page.locator('#load-more').count()).toBe(0);
      release();
      await page.locator(`#jobs tbody tr[data-id="${rare}"]`).waitFor();
      expect(await page.locator('#jobs tbody tr').count()).toBe(1);
      expect(pageErrors).toEqual([]);
    });

    it('stops following after its bound and leaves "Load more" with a note of how far it looked', async () => {
      // A budget of one row and more jobs than the 21 fetches one action may make: the run ends
      // on the bound, not on the end of the list.
      await jobs.enqueueManyAutocommit(Array.from({ length: 30 }, (_, n) => ping({ n })), { queue: 'bound', delayMs: 3_600_000 });
      await page.goto(`${root}#/jobs?kind=no-such-kind&scan=1`);
      await page.locator('#search-note').waitFor();
      expect(await page.locator('#search-note').textContent()).toMatch(/No match in the last \d+ rows searched/);
      expect(await page.locator('#load-more').count()).toBe(1);
      expect(await page.locator('#searching').count()).toBe(0);
      expect(await page.locator('#jobs tbody tr').count()).toBe(0);
    });

    it('stops following short pages when the user navigates away', async () => {
      const isFollow = (url: URL) => url.pathname.endsWith('/api/jobs') && url.searchParams.has('cursor') && url.searchParams.get('kind') === 'no-such-kind';
      const followed: string[] = [];
      const onRequest = (request: { url(): string }) => {
        if (isFollow(new URL(request.url()))) followed.push(request.url());
      };
      page.on('request', onRequest);
      try {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        await page.route(
          isFollow,
          async (route) => {
            await held;
            await route.continue();
          },
          { times: 1 },
        );
        // A budget of one row: every page is empty and has a `next`, so only the bound or the
        // navigation ends the run. (`limit=10` keeps this link apart from the previous test's:
        // going to the hash the page already shows would render nothing anew.)
        await page.goto(`${root}#/jobs?kind=no-such-kind&scan=1&limit=10`);
        await page.locator('#searching').waitFor();
        await page.evaluate(() => {
          location.hash = '#/cron';
        });
        await page.locator('#cron').waitFor();
        const finished = page.waitForEvent('requestfinished', (request) => isFollow(new URL(request.url())));
        release();
        await finished;
        // One more round trip through the page: a loop still running would have asked for the
        // next page as soon as the held one came back, well before this answer.
        await page.evaluate(async () => {
          await fetch('api/session');
        });
        expect(followed).toHaveLength(1);
      } finally {
        page.off('request', onRequest);
      }
    });

    it('cancels a running job from its page', async () => {
      const worker = jobs.createWorker({ queues: ['reports'] });
      const started = new Promise<void>((resolve) => worker.on('job:started', () => resolve()));
      const id = await jobs.enqueueAutocommit(blocking({}), { queue: 'reports' });
      await worker.start();
      try {
        await started;
        await page.goto(`${root}#/jobs/${id}`);
        await text('#job-state', 'running');
        expect(await page.locator('#timeline [data-field="lease until"]').textContent()).not.toBe('–');
        await page.click('#job-actions button[data-action=cancel]');
        await text('#job-state', 'cancelled');
        expect(await stateOf(id)).toBe('cancelled');
      } finally {
        releaseBlocked();
        await worker.stop();
      }
    });

    it('discards everything matching a filter after a confirmation that shows the count', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await jobs.enqueueAutocommit(ping({}), { queue: 'bulk', delayMs: 3_600_000 }));
      await page.goto(`${root}#/jobs?queue=bulk`);
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 3);
      await page.click('button[data-filter-action=discard]');
      await text('#confirm-text', 'discard all 3 jobs matching this filter?');
      await shot('bulk-confirm');
      await page.click('#confirm-yes');
      await page.waitForFunction(() => /discard: 3 jobs changed/.test(document.getElementById('status')?.textContent ?? ''));
      for (const id of ids) expect(await stateOf(id)).toBe('discarded');
    });

    it('pauses a queue from the overview', async () => {
      await page.goto(root);
      const row = page.locator('#queues tr[data-queue="pages"]');
      await row.locator('button[data-action=pause]').click();
      await row.locator('button[data-action=resume]').waitFor();
      expect(await jobs.pausedQueues()).toContain('pages');
      await row.locator('button[data-action=resume]').click();
      await row.locator('button[data-action=pause]').waitFor();
      expect(await jobs.pausedQueues()).not.toContain('pages');
      await shot('overview');
    });

    it('works under an Express mount at /admin/jobs: deep link, live counts, and a POST with the CSRF token', async () => {
      await page.goto(`${mounted}#/jobs?state=discarded&queue=bulk`);
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr[data-state=discarded]').length === 3);
      const scripts = await page.evaluate(() => [...document.querySelectorAll('script[src]')].map((s) => s.src ?? ''));
      expect(scripts.every((src) => new URL(src).pathname.startsWith('/admin/jobs/assets/'))).toBe(true);

      await page.click('nav a[data-view=overview]');
      const cell = '#counts tr[data-queue="mounted"] td[data-state="available"]';
      await jobs.enqueueAutocommit(ping({}), { queue: 'mounted', delayMs: 3_600_000 });
      await text(cell, '1');
      const row = page.locator('#queues tr[data-queue="mounted"]');
      await row.locator('button[data-action=pause]').click();
      await row.locator('button[data-action=resume]').waitFor();
      expect(await jobs.pausedQueues()).toContain('mounted');
    });

    it('acts on a selection of rows', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await jobs.enqueueAutocommit(ping({}), { queue: 'picked', delayMs: 3_600_000 }));
      await page.goto(`${root}#/jobs?queue=picked`);
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 3);
      await page.check(`#jobs tr[data-id="${ids[0]}"] input[type=checkbox]`);
      await page.check(`#jobs tr[data-id="${ids[2]}"] input[type=checkbox]`);
      await text('#selected-count', '2 selected');
      await page.click('button[data-bulk=delete]');
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 1);
      expect(await page.locator('#jobs tbody tr').getAttribute('data-id')).toBe(ids[1]);
      expect(await stateOf(ids[0]!)).toBeUndefined();
      expect(await stateOf(ids[1]!)).toBe('available');
      expect(await stateOf(ids[2]!)).toBeUndefined();
    });

    it('lists the periodic jobs with their next slots', async () => {
      await page.goto(`${root}#/cron`);
      const row = page.locator('#cron tr', { hasText: 'nightly-digest' });
      await row.waitFor();
      expect(await row.textContent()).toContain('0 3 * * *');
      expect(await row.textContent()).toContain('digests');
    });

    it('shows a read-only session no action', async () => {
      const id = await jobs.enqueueAutocommit(ping({}), { queue: 'read-only', delayMs: 3_600_000 });
      await page.goto(`${readOnlyRoot}#/jobs/${id}`);
      await text('#job-state', 'available');
      await text('#principal', 'support (read-only)');
      expect(await page.locator('#job-actions').count()).toBe(0);
      await page.goto(`${readOnlyRoot}#/jobs?queue=read-only`);
      await page.locator('#end-of-list').waitFor();
      expect(await page.locator('#bulk button').count()).toBe(0);
      await page.goto(readOnlyRoot);
      await page.locator('#queues tr[data-queue="read-only"]').waitFor();
      expect(await page.locator('#queues button').count()).toBe(0);
    });

    it('runs under the CSP with no violation; styles set from script (CSSOM) apply, style attributes do not', async () => {
      await page.goto(root);
      await page.locator('#counts').waitFor();
      const styles = await page.evaluate(() => {
        const viaCssom = document.createElement('div');
        viaCssom.style.width = '7px';
        const viaAttribute = document.createElement('div');
        viaAttribute.setAttribute('style', 'width: 9px');
        document.body.append(viaCssom, viaAttribute);
        return { cssom: getComputedStyle(viaCssom).width, attribute: getComputedStyle(viaAttribute).width };
      });
      expect(styles.cssom).toBe('7px');
      expect(styles.attribute).not.toBe('9px');
      expect(cspViolations.filter((v) => !v.includes("'style-src"))).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  });
}
