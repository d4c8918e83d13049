/**
 * The state-changing requests: actions on one job, on a selection or on everything matching a
 * filter, and queue pause/resume. Each passes the same gate first ({@link checkWrite}) (not read-only, same origin,
 * a valid CSRF token for this principal), and each one carried out is reported to `onAudit`.
 *
 * @module
 */
import { isAnyJobId } from '../job-id.ts';
import type { SafeLogger } from '../logger.ts';
import { assertName } from '../validation.ts';
import { CSRF_HEADER, isSameOrigin, type CsrfTokens } from './csrf.ts';
import type { DashboardAuditEvent, DashboardPrincipal } from './dashboard-options.ts';
import type { DashboardStore, JobAction, JobTarget } from './dashboard-store.ts';
import { HttpError, badRequest } from './http-error.ts';
import { filterFromJson } from './job-filter-query.ts';
import { readJson } from './request-body.ts';
import { jsonResponse } from './security-headers.ts';

/** The most jobs one bulk action by filter may change (its `expected`), and the cap of the count shown before it. */
export const MAX_BULK = 10_000;
/** The most ids one action on a selection may list. */
export const MAX_BULK_IDS = 1_000;

const JOB_ACTIONS: readonly JobAction[] = ['retry', 'cancel', 'discard', 'delete', 'run-now'];

/** What the action handlers need from the dashboard and the request. */
export interface ActionContext {
  request: Request;
  principal: DashboardPrincipal;
  principalId: string;
  readOnly: boolean;
  store: DashboardStore;
  csrf: CsrfTokens;
  now: () => number;
  logger: SafeLogger;
  onAudit: ((event: DashboardAuditEvent) => void | Promise<void>) | undefined;
}

/**
 * Refuses a state-changing request that is read-only, cross-origin or without a valid token.
 * The handler runs it before every POST route, ahead of reading anything else of the request.
 */
export function checkWrite(ctx: ActionContext): void {
  if (ctx.readOnly) throw new HttpError(403, 'READ_ONLY', 'The dashboard is read-only for you.');
  if (!isSameOrigin(ctx.request)) throw new HttpError(403, 'CROSS_ORIGIN', 'State-changing requests must come from the dashboard page itself (same origin).');
  const token = ctx.request.headers.get(CSRF_HEADER);
  if (token === null || token === '') throw new HttpError(403, 'CSRF_TOKEN_MISSING', `Send the token of GET api/session in the ${CSRF_HEADER} header.`);
  if (!ctx.csrf.verify(token, ctx.principalId, ctx.now())) {
    throw new HttpError(403, 'CSRF_TOKEN_INVALID', 'The CSRF token is not valid for you (expired, or from another session or server); fetch api/session again.');
  }
}

async function audit(ctx: ActionContext, event: DashboardAuditEvent): Promise<void> {
  if (!ctx.onAudit) return;
  try {
    await ctx.onAudit(event);
  } catch (error) {
    // The action is done; an audit sink that fails is the app's problem to see, not the user's.
    ctx.logger.error(`dashboard: onAudit failed for ${event.action}`, { error });
  }
}

function jobAction(name: unknown): JobAction {
  if (typeof name !== 'string' || !JOB_ACTIONS.includes(name as JobAction)) throw new HttpError(404, 'NOT_FOUND', `No job action ${JSON.stringify(String(name).slice(0, 40))}; use one of ${JOB_ACTIONS.join(', ')}.`);
  return name as JobAction;
}

async function run(ctx: ActionContext, action: JobAction, target: JobTarget): Promise<Response> {
  const changed = await ctx.store.act(action, target);
  const at = new Date(ctx.now());
  await audit(ctx, 'ids' in target ? { target: 'jobs', action, principal: ctx.principal, ids: target.ids, changed, at } : { target: 'jobs', action, principal: ctx.principal, filter: target.filter, max: target.max, changed, at });
  return jsonResponse({ changed });
}

/** `POST /api/jobs/:id/:action`. */
export async function actOnJob(ctx: ActionContext, id: string, actionName: string): Promise<Response> {
  const action = jobAction(actionName);
  if (!isAnyJobId(id)) throw badRequest('The job id must be a job id as the list gives it.');
  return run(ctx, action, { ids: [id] });
}

/** `POST /api/bulk` with `{ action, ids }` or `{ action, filter, expected }`. */
export async function actInBulk(ctx: ActionContext): Promise<Response> {
  const body = await readJson(ctx.request);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Send { action, ids } or { action, filter, expected }.');
  const { action: name, ids, filter, expected, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw badRequest(`Unknown field ${JSON.stringify(Object.keys(rest)[0])}.`);
  if (typeof name !== 'string' || !JOB_ACTIONS.includes(name as JobAction)) throw badRequest(`action: one of ${JOB_ACTIONS.join(', ')}.`);
  const action = name as JobAction;
  if (ids !== undefined) {
    if (filter !== undefined || expected !== undefined) throw badRequest('Give either ids, or filter and expected.');
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BULK_IDS || !ids.every((id) => typeof id === 'string' && isAnyJobId(id))) {
      throw badRequest(`ids: 1 to ${MAX_BULK_IDS} job ids, as strings.`);
    }
    return run(ctx, action, { ids: [...new Set(ids as string[])] });
  }
  if (filter === undefined || expected === undefined) throw badRequest('Give either ids, or filter and expected.');
  if (!Number.isInteger(expected) || (expected as number) < 0 || (expected as number) > MAX_BULK) {
    throw badRequest(`expected: the count the user confirmed, an integer from 0 to ${MAX_BULK}.`);
  }
  // `expected` bounds the change: never more jobs than the confirmation showed, even if more match now.
  return run(ctx, action, { filter: filterFromJson(filter), max: expected as number });
}

/** `POST /api/queues/:queue/:action` with `pause` or `resume`. */
export async function actOnQueue(ctx: ActionContext, queueName: string, action: string): Promise<Response> {
  if (action !== 'pause' && action !== 'resume') throw new HttpError(404, 'NOT_FOUND', 'Queue actions are pause and resume.');
  let queue: string;
  try {
    queue = assertName('queue', queueName);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  const changed = await ctx.store.setQueuePaused(queue, action === 'pause');
  await audit(ctx, { target: 'queue', action, principal: ctx.principal, queue, changed, at: new Date(ctx.now()) });
  return jsonResponse({ queue, paused: action === 'pause', changed });
}
