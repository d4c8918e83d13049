/**
 * `createDashboard`: the dashboard as one web-standard handler (`Request` → `Response`) that
 * any framework can mount at any path chosen at run time.
 *
 * Every request goes through the same steps: work out the route under the base path, ask the
 * app's `authorize` who is asking, gate state-changing requests (read-only, same origin, CSRF
 * token), then answer. Errors are JSON with a typed code (see {@link DashboardErrorCode}).
 *
 * @module
 */
import { ConcordiaError, InvalidOptionError } from '../errors.ts';
import { isAnyJobId } from '../job-id.ts';
import { consoleLogger, normalizeLogger, type SafeLogger } from '../logger.ts';
import { assertInt } from '../validation.ts';
import { normalizeBasePath, routePath } from './base-path.ts';
import { CountsFeed, type CountsSnapshot } from './counts-feed.ts';
import { cronView, checkPeriodic } from './cron-view.ts';
import { CsrfTokens } from './csrf.ts';
import type { DashboardOptions, DashboardPrincipal, PrincipalSwitch } from './dashboard-options.ts';
import type { DashboardStore } from './dashboard-store.ts';
import { backendStore } from './backend-store.ts';
import { eventStream } from './event-stream.ts';
import { HttpError, badRequest, type DashboardErrorCode } from './http-error.ts';
import { MAX_BULK, MAX_BULK_IDS, actInBulk, actOnJob, actOnQueue, checkWrite, type ActionContext } from './operator-actions.ts';
import { filterFromQuery, pageFromQuery } from './job-filter-query.ts';
import { matchRoute, type RouteMatch } from './router.ts';
import { jsonResponse, secure } from './security-headers.ts';
import { safeRedact, shownDetail, shownSummary } from './shown-payload.ts';
import { StaticAssets } from './static-assets.ts';
import { ThroughputCache } from './throughput-cache.ts';

/** What the handler knows about one request beyond the request itself. */
export interface DashboardRequestContext {
  /** The path the dashboard is mounted at for this request (Express's `req.baseUrl`). Ignored when the `basePath` option is set. */
  basePath?: string;
}

/**
 * The dashboard handler: call it with a `Request`, get the `Response`. Mount it in any framework
 * that speaks web-standard requests (Hono, Next.js route handlers, Bun, Deno), or in Node's
 * `http`, Express, Koa and Fastify through `toNodeHandler`.
 */
export interface Dashboard {
  (request: Request): Promise<Response>;
  /** The same, with what the server knows about where this request was mounted. */
  handle(request: Request, context?: DashboardRequestContext): Promise<Response>;
  /** The `basePath` option, normalized (`''` for the root), or undefined when it is per request. */
  readonly basePath: string | undefined;
  /**
   * Shuts the live updates down, for a graceful stop of the server: ends every open event
   * stream (`api/events`), stops the counts feed (its poll timer and, on PostgreSQL, its LISTEN
   * connection) and resolves once all of that is closed. An open dashboard tab keeps a request
   * open for as long as it stays open, so `server.close()` would wait for it; call this first:
   * `await dashboard.close(); server.close()`.
   *
   * Afterwards `api/events` answers 503 `SHUTTING_DOWN` with a `Retry-After`, so a client that
   * reconnects before the server stops listening is told to come back (to the instance that
   * replaces this one) rather than kept open. Every other route is still served: those requests
   * are short and end by themselves, and the app decides when its server stops taking them.
   * The Concordia client is not closed (it is the app's). Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** How the overview reads throughput (`api/throughput`, cached by {@link ThroughputCache}): the last day, by hour. */
const THROUGHPUT_WINDOW_MS = 24 * 3600 * 1000;
const THROUGHPUT_BUCKET_MS = 3600 * 1000;
/** How soon a client refused after close() is asked to try again, in seconds: about when a restarted instance is up. */
const RETRY_AFTER_CLOSE_S = 5;
/** Running jobs listed on the overview. */
const RUNNING_LIMIT = 50;

function principalIdOf(principal: DashboardPrincipal): string {
  const id = typeof principal === 'string' ? principal : principal !== null && typeof principal === 'object' ? principal.id : undefined;
  if (typeof id !== 'string' || id === '') throw new TypeError('authorize() must return a non-empty string, an object with a non-empty string `id`, null or a Response.');
  return id;
}

function principalNameOf(principal: DashboardPrincipal): string {
  return typeof principal === 'string' ? principal : typeof principal.name === 'string' && principal.name !== '' ? principal.name : principal.id;
}

function switchOf(name: string, value: PrincipalSwitch | undefined): (principal: DashboardPrincipal) => boolean {
  if (value === undefined) return () => false;
  if (typeof value === 'boolean') return () => value;
  if (typeof value === 'function') return (principal) => value(principal) === true;
  throw new InvalidOptionError(`createDashboard: \`${name}\` must be a boolean or a function of the principal.`);
}

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(`createDashboard: \`${name}\` must be a function.`);
  return value;
}

/** The JSON error answer of anything thrown while handling a request. */
function errorResponse(error: unknown, logger: SafeLogger, request: Request): Response {
  let status = 500;
  let code: DashboardErrorCode = 'INTERNAL';
  let message = 'The dashboard failed to answer; the server log has the details.';
  let headers: Record<string, string> = {};
  if (error instanceof HttpError) {
    ({ status, code, message, headers } = { status: error.status, code: error.code, message: error.message, headers: { ...error.headers } });
  } else if (error instanceof ConcordiaError && ['INVALID_IDENTIFIER', 'INVALID_OPTION', 'INVALID_FILTER'].includes(error.code)) {
    // The storage methods check what they are given too (a JSON path key they cannot use, say).
    status = 400;
    code = 'INVALID_REQUEST';
    message = error.message;
  }
  if (status === 500) logger.error(`dashboard: ${request.method} ${new URL(request.url).pathname} failed`, { error });
  return jsonResponse({ error: { code, message } }, status, headers);
}

/**
 * Creates the dashboard handler for one Concordia client.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({
 *   jobs,
 *   basePath: '/admin/jobs',
 *   authorize: (request) => (isAdmin(request) ? 'admin' : null),
 * });
 * // Web-standard frameworks: return dashboard(request) from a route for /admin/jobs/*.
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('createDashboard: pass { jobs, … }.');
  const jobs = options.jobs;
  if (!jobs || typeof jobs !== 'object' || !jobs.adapter || !jobs.backend) throw new InvalidOptionError('createDashboard: `jobs` must be the client createJobs() returned.');
  const logger = options.logger === undefined ? consoleLogger : normalizeLogger(options.logger);
  const fixedBase = options.basePath === undefined ? undefined : normalizeBasePath(options.basePath);
  const authorize = optionalFunction('authorize', options.authorize);
  const readOnly = switchOf('readOnly', options.readOnly);
  const showArgs = switchOf('showArgs', options.showArgs);
  const redact = safeRedact(optionalFunction('redact', options.redact));
  const onAudit = optionalFunction('onAudit', options.onAudit);
  const periodic = checkPeriodic(options.periodic);
  const csrf = new CsrfTokens(options.csrfSecret);
  const timeoutMs = assertInt('statementTimeoutMs', options.statementTimeoutMs ?? 10_000, 1, 3_600_000);
  const channel = jobs.backend.channel ?? null;
  const listen = channel && jobs.adapter.listen ? { adapter: jobs.adapter, channel } : null;
  const pollIntervalMs = assertInt('events.pollIntervalMs', options.events?.pollIntervalMs ?? (listen ? 5000 : 2000), 10, 3_600_000);
  const heartbeatMs = assertInt('events.heartbeatMs', options.events?.heartbeatMs ?? 15_000, 10, 3_600_000);
  const clock = jobs.clock;
  const store: DashboardStore = backendStore(jobs);
  const assets = new StaticAssets();
  const throughput = new ThroughputCache((nowMs) => store.throughput({ sinceMs: nowMs - THROUGHPUT_WINDOW_MS, untilMs: nowMs, bucketMs: THROUGHPUT_BUCKET_MS }));
  let feed: CountsFeed | null = null;
  /** The ends of the open event streams, and close()'s promise once it was called. */
  const openStreams = new Set<() => void>();
  let closing: Promise<void> | null = null;
  if (!authorize) {
    logger.warn('dashboard: no `authorize` option, so anyone who can reach it may see, cancel and delete jobs. Pass authorize(request) to decide who may.');
  }

  /** A read that gives up after `statementTimeoutMs`; the query itself runs to its end on its connection. */
  const bounded = <T>(read: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof clock.setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => reject(new HttpError(503, 'TIMEOUT', `The database did not answer within ${timeoutMs} ms.`)), timeoutMs);
    });
    read.catch(() => {}); // the deadline may win; a later failure is then of no interest
    return Promise.race([read, deadline]).finally(() => clock.clearTimeout(timer!));
  };

  const answer = async (request: Request, route: RouteMatch, base: string, principal: DashboardPrincipal): Promise<Response> => {
    const principalId = principalIdOf(principal);
    const query = new URL(request.url).searchParams;
    const ctx: ActionContext = {
      request,
      principal,
      principalId,
      readOnly: readOnly(principal),
      store,
      csrf,
      now: () => clock.now().getTime(),
      logger,
      onAudit,
    };
    if (request.method === 'POST') checkWrite(ctx);
    switch (route.name) {
      case 'page':
        return assets.page(`${base}/`, route.head);
      case 'asset':
        return assets.asset(route.params['rest']!, request, route.head);
      case 'session':
        return jsonResponse({
          principal: { id: principalId, name: principalNameOf(principal) },
          readOnly: ctx.readOnly,
          showArgs: showArgs(principal),
          csrfToken: csrf.issue(principalId, ctx.now()),
          maxBulk: MAX_BULK,
          maxSelection: MAX_BULK_IDS,
        });
      case 'overview': {
        // Throughput is not here: it scans the table, so the page fetches it apart (below).
        // With a stream open, the feed has these counts, or is reading them (a page opens its
        // stream as it loads the overview): reading them again would double the slow part.
        const own = (): Promise<CountsSnapshot> => Promise.all([store.overviewCounts(), store.pausedQueues()]).then(([counts, paused]) => ({ counts, paused }));
        const shared = feed ? feed.recent().then((snapshot) => snapshot ?? own()) : own();
        const [{ counts, paused }, running] = await bounded(Promise.all([shared, store.runningJobs(RUNNING_LIMIT)]));
        const names = [...new Set([...counts.map((c) => c.queue), ...paused])].sort();
        return jsonResponse({ counts, queues: names.map((name) => ({ name, paused: paused.includes(name) })), running });
      }
      case 'throughput': {
        // A read the deadline gives up on still finishes and is kept: the next request gets it.
        const read = throughput.get(ctx.now());
        return jsonResponse({ throughput: await bounded(read.buckets), readAt: new Date(read.at).toISOString() });
      }
      case 'jobs': {
        const filter = filterFromQuery(query);
        const asked = pageFromQuery(query);
        const page = await bounded(store.searchJobs({ filter, ...asked }));
        // `scanLimit` lets the page say how far a run of short pages has looked.
        return jsonResponse({ jobs: page.jobs.map((job) => shownSummary(job, redact)), next: page.next, scanLimit: asked.scanLimit });
      }
      case 'jobs-count': {
        const filter = filterFromQuery(query);
        return jsonResponse(await bounded(store.countMatching(filter, { max: MAX_BULK })));
      }
      case 'job': {
        const id = route.params['id']!;
        if (!isAnyJobId(id)) throw badRequest('The job id must be a job id as the list gives it.');
        const job = await bounded(store.jobDetail(id));
        if (!job) throw new HttpError(404, 'NOT_FOUND', `No job ${id}.`);
        return jsonResponse(shownDetail(job, { showArgs: showArgs(principal), redact }));
      }
      case 'job-action':
        return actOnJob(ctx, route.params['id']!, route.params['action']!);
      case 'bulk':
        return actInBulk(ctx);
      case 'queue-action':
        return actOnQueue(ctx, route.params['queue']!, route.params['action']!);
      case 'cron':
        return jsonResponse(await bounded(cronView(periodic, store, ctx.now(), jobs.defaultQueue)));
      case 'events':
        // After close() a stream would keep the server from stopping, and the feed is gone.
        if (closing) throw new HttpError(503, 'SHUTTING_DOWN', 'The dashboard is shutting down; live updates are not served here any more.', { 'retry-after': String(RETRY_AFTER_CLOSE_S) });
        // A HEAD gets the headers only: opening a stream nobody reads would hold the feed open.
        if (route.head) return new Response(null, { status: 200, headers: secure(new Headers({ 'content-type': 'text/event-stream; charset=utf-8' }), true) });
        feed ??= new CountsFeed({ store, clock, logger, listen, pollIntervalMs });
        return eventStream(feed, request, { heartbeatMs, clock, logger, open: openStreams });
    }
  };

  const handle = async (request: Request, context: DashboardRequestContext = {}): Promise<Response> => {
    try {
      const base = fixedBase ?? (context.basePath === undefined ? '' : normalizeBasePath(context.basePath, 'context.basePath'));
      const url = new URL(request.url);
      const decision = authorize ? await authorize(request) : 'anonymous';
      if (decision instanceof Response) return decision;
      if (decision === null || decision === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'Sign in to use the dashboard.');
      const route = matchRoute(request.method, routePath(url.pathname, base));
      const response = await answer(request, route, base, decision);
      return route.head ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (error) {
      return errorResponse(error, logger, request);
    }
  };

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Each end removes itself from the set, hence the copy.
      for (const end of [...openStreams]) end();
      await feed?.close();
      logger.debug('dashboard: closed');
    })());

  const dashboard = ((request: Request) => handle(request)) as Dashboard;
  Object.defineProperties(dashboard, {
    handle: { value: handle, enumerable: true },
    close: { value: close, enumerable: true },
    basePath: { value: fixedBase, enumerable: true },
  });
  return dashboard;
}
