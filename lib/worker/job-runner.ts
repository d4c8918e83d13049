/**
 * The job runner: owns the worker's slots and runs each claimed job in one. It decodes the
 * args, builds the handler's context, runs the middleware and the handler (inside the adapter's
 * user transaction for `transactional` kinds), enforces the kind's timeout, and hands the
 * outcome to the completer. It never claims and never writes SQL.
 *
 * @module
 */
import { CancelJob, DiscardJob, JobTimeoutError, LeaseLostError, SnoozeJob, UnknownJobKindError } from '../errors.ts';
import type { ClaimedJob } from '../job.ts';
import type { JobContext } from '../job-definition.ts';
import { composeMiddleware } from '../middleware.ts';
import type { JsonObject } from '../validation.ts';
import type { Completer } from './completer.ts';
import type { InFlight, WorkerContext } from './worker-context.ts';
import { jobInfo } from './worker-events.ts';

/** How long a timed-out handler may take to honour its aborted signal before it counts as stalled. */
const STALL_GRACE_MS = 1000;

export class JobRunner {
  readonly #ctx: WorkerContext;
  readonly #completer: Completer;
  readonly #inflight = new Map<string, InFlight>();
  readonly #executions = new Set<Promise<void>>();
  readonly #runningByQueue = new Map<string, number>();
  /** Kinds without a handler already logged, so each is warned about once. */
  readonly #unknownKinds = new Set<string>();
  #stalled = 0;
  /** Called when an execution ends and frees its slot; `handlerMs` is the handler's own time, if it ran. */
  onSlotFreed: (handlerMs: number | undefined) => void = () => {};

  constructor(ctx: WorkerContext, completer: Completer) {
    this.#ctx = ctx;
    this.#completer = completer;
  }

  /** Slots taken: running handlers, including stalled ones. */
  get size(): number {
    return this.#inflight.size;
  }

  get stalled(): number {
    return this.#stalled;
  }

  /** Handlers of `queue` running now. */
  runningIn(queue: string): number {
    return this.#runningByQueue.get(queue) ?? 0;
  }

  /** Executions whose outcome is not decided yet (the heartbeat extends their leases). */
  undecided(): InFlight[] {
    return [...this.#inflight.values()].filter((e) => !e.decided);
  }

  /** Resolves once every execution started so far has ended. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#executions]);
  }

  /** Starts `job` in a new slot; the caller made sure one is free. */
  start(job: ClaimedJob): void {
    const entry: InFlight = { job, info: jobInfo(job), controller: new AbortController(), decided: false, released: false };
    this.#inflight.set(job.id, entry);
    this.#runningByQueue.set(job.queue, this.runningIn(job.queue) + 1);
    let handlerMs: number | undefined;
    const execution: Promise<void> = this.#execute(entry, (ms) => void (handlerMs = ms))
      .catch((error: unknown) => this.#ctx.logger.error('concordia: unexpected error while running a job', { jobId: job.id, error }))
      .finally(() => {
        this.#inflight.delete(job.id);
        this.#runningByQueue.set(job.queue, this.runningIn(job.queue) - 1);
        this.#executions.delete(execution);
        this.onSlotFreed(handlerMs);
      });
    this.#executions.add(execution);
  }

  async #execute(entry: InFlight, measured: (handlerMs: number) => void): Promise<void> {
    const { job } = entry;
    const ctx = this.#ctx;
    const definition = ctx.jobs.registry.get(job.kind);
    if (!definition) {
      if (!this.#unknownKinds.has(job.kind)) {
        this.#unknownKinds.add(job.kind);
        ctx.logger.warn(`concordia: no handler is registered for job kind "${job.kind}" in this worker; its jobs are discarded (reason unknown_kind). Logged once per kind.`, {
          workerId: ctx.settings.workerId,
          kind: job.kind,
          jobId: job.id,
        });
      }
      return this.#completer.discard(entry, new UnknownJobKindError(job.kind, `No handler for kind "${job.kind}" in this worker; discarded.`), 'unknown_kind');
    }
    let args: unknown;
    let metadata: JsonObject | null;
    try {
      args = decodeObject(job.args, 'args');
      metadata = job.metadata === null ? null : decodeObject(job.metadata, 'metadata');
      if (definition.parse) args = definition.parse(args);
    } catch (error) {
      return this.#completer.discard(entry, error, 'invalid_args');
    }
    const jobCtx: JobContext = {
      id: job.id,
      kind: job.kind,
      queue: job.queue,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      priority: job.priority,
      createdAt: job.createdAt,
      runAt: job.runAt,
      metadata,
      signal: entry.controller.signal,
      logger: ctx.logger,
    };
    ctx.emit('job:started', { job: entry.info });
    const startedAt = performance.now();
    const handling = Promise.resolve().then(() =>
      composeMiddleware(ctx.settings.middleware, { ...jobCtx, args }, async () => {
        if (definition.defaults.transactional) await this.#runInTransaction(entry, definition.handler, args, jobCtx);
        else await definition.handler(args, jobCtx);
      }),
    );
    const timeoutMs = definition.defaults.timeoutMs;
    let settled = false;
    handling.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    let timer: ReturnType<typeof ctx.timers.after> | undefined;
    let stallTimer: ReturnType<typeof ctx.timers.after> | undefined;
    let stalled = false;
    const outcome = await new Promise<{ ok: true } | { ok: false; error: unknown }>((resolve) => {
      handling.then(
        () => resolve({ ok: true }),
        (error: unknown) => resolve({ ok: false, error }),
      );
      if (timeoutMs !== undefined) {
        timer = ctx.timers.after(timeoutMs, () => {
          timer = undefined;
          const error = new JobTimeoutError(timeoutMs);
          entry.controller.abort(error);
          resolve({ ok: false, error });
          stallTimer = ctx.timers.after(STALL_GRACE_MS, () => {
            stallTimer = undefined;
            if (settled) return;
            stalled = true;
            this.#stalled++;
            ctx.emit('job:stalled', { job: entry.info, timeoutMs });
          });
        });
      }
    });
    ctx.timers.clear(timer);
    const durationMs = performance.now() - startedAt;
    measured(durationMs);
    if (!entry.decided) {
      entry.decided = true;
      if (outcome.ok && entry.completedInTx) ctx.emit('job:completed', { job: entry.info, durationMs });
      else if (outcome.ok) this.#completer.complete(entry, durationMs);
      else if (isA(outcome.error, SnoozeJob)) await this.#completer.snooze(entry, outcome.error.delayMs);
      else if (isA(outcome.error, CancelJob)) await this.#completer.end(entry, outcome.error, 'cancelled');
      else if (isA(outcome.error, DiscardJob)) await this.#completer.end(entry, outcome.error, 'discarded');
      else await this.#completer.fail(entry, outcome.error);
    }
    // The slot stays taken until the handler really returns: a timed-out handler that ignores
    // its signal still holds resources, and counting it keeps `concurrency` honest.
    await handling.catch(() => {});
    ctx.timers.clear(stallTimer);
    if (stalled) this.#stalled--;
  }

  /**
   * Runs a `transactional` handler inside the adapter's user transaction and marks the job
   * completed in that same transaction. If the attempt was decided meanwhile (timed out) or the
   * lease is gone, it throws, so the transaction and the handler's writes roll back.
   */
  async #runInTransaction(entry: InFlight, handler: (args: unknown, ctx: JobContext) => unknown, args: unknown, jobCtx: JobContext): Promise<void> {
    const ctx = this.#ctx;
    const adapter = ctx.jobs.adapter;
    await adapter.userTransaction!(async (tx) => {
      await handler(args, { ...jobCtx, tx });
      if (entry.decided) throw new LeaseLostError(entry.job.id);
      const held = await ctx.backend.completeWithin(adapter.bind(tx), { id: entry.job.id, token: entry.job.leaseToken }, ctx.clock.sqlNow());
      if (!held) throw new LeaseLostError(entry.job.id);
      entry.completedInTx = true;
    });
  }
}

/** `instanceof` that answers false instead of throwing (a Proxy's getPrototypeOf trap may throw). */
function isA<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

function decodeObject(raw: unknown, what: string): JsonObject {
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`stored ${what} is not a JSON object`);
  }
  return value as JsonObject;
}
