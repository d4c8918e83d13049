/**
 * The completer: writes every outcome of an execution, fenced on the job's lease token, so a
 * worker that lost a job can never overwrite the newer execution's outcome.
 *
 * Completions are the common case and are batched: they gather for the rest of the event-loop
 * turn and go out as one UPDATE per flush (completions arriving during a flush form the next).
 * Failures, snoozes, cancels and discards each carry their own error and next run time and are
 * written one by one. Transient database errors are retried with capped backoff; after a few
 * tries the completer gives up, leaving the job `running` for the rescuer to return once its
 * lease expires: an outcome may be delayed or redone, never lost.
 *
 * @module
 */
import { errorEntry, redactEntry } from '../error-entry.ts';
import type { CancelJob, DiscardJob } from '../errors.ts';
import type { Fence } from '../job.ts';
import type { InFlight, WorkerContext } from './worker-context.ts';
import type { DiscardReason } from './worker-events.ts';

const COMPLETE_BATCH = 1000;

export class Completer {
  readonly #ctx: WorkerContext;
  #pending: { entry: InFlight; durationMs: number }[] = [];
  #flushing: Promise<void> | null = null;
  /** Called when a flush ends (the worker may have become idle). */
  readonly #onFlushed: () => void;

  constructor(ctx: WorkerContext, onFlushed: () => void) {
    this.#ctx = ctx;
    this.#onFlushed = onFlushed;
  }

  /** No completion waits to be written. */
  get settled(): boolean {
    return this.#pending.length === 0 && this.#flushing === null;
  }

  /** Resolves when every completion queued so far is written (or given up on). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  complete(entry: InFlight, durationMs: number): void {
    this.#pending.push({ entry, durationMs });
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
      this.#onFlushed();
    });
  }

  async #flush(): Promise<void> {
    // Start at the end of this turn of the event loop, not at the first completion: handlers that
    // finish together (a claimed batch of quick jobs) then share one UPDATE instead of the first
    // going alone. Completions that arrive while an UPDATE is in flight go out together in the next.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const ctx = this.#ctx;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, COMPLETE_BATCH);
      const fences: Fence[] = batch.map((c) => ({ id: c.entry.job.id, token: c.entry.job.leaseToken }));
      let done: Set<string>;
      try {
        done = await this.persist('complete', () => ctx.backend.complete(ctx.db, fences, ctx.clock.sqlNow()));
      } catch (error) {
        ctx.report('complete (gave up; the leases will expire and the jobs will run again)', error);
        continue;
      }
      for (const c of batch) {
        if (done.has(c.entry.job.id)) ctx.emit('job:completed', { job: c.entry.info, durationMs: c.durationMs });
        else ctx.emit('job:lease-lost', { job: c.entry.info, during: 'complete' });
      }
    }
  }

  /** Runs a database write, retrying transient failures with capped backoff. */
  async persist<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        // After a few tries give up: the job stays `running` and the rescuer returns it once
        // its lease expires, so nothing is lost, only delayed.
        if (attempt >= 6) throw error;
        this.#ctx.report(operation, error);
        await this.#ctx.timers.sleep(Math.min(50 * 2 ** attempt, 5000));
      }
    }
  }

  /** A failed attempt: retried after the retry policy's delay, or discarded when out of attempts. */
  async fail(entry: InFlight, error: unknown): Promise<void> {
    const { job } = entry;
    const ctx = this.#ctx;
    ctx.emit('job:failed', { job: entry.info, error });
    const exhausted = job.attempt >= job.maxAttempts;
    let delayMs = 0;
    if (!exhausted) {
      try {
        delayMs = Math.max(0, Math.min(Math.round(ctx.settings.retry.delayMs(job.attempt, error)), 365 * 24 * 3600 * 1000));
      } catch (policyError) {
        ctx.logger.error('concordia: the retry policy threw; retrying in 1 s', { error: policyError });
        delayMs = 1000;
      }
      if (!Number.isFinite(delayMs)) delayMs = 1000;
    }
    const held = await this.#record(entry, error, exhausted ? 'discarded' : 'available', delayMs, undefined);
    if (held === undefined) return;
    if (!held) ctx.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else if (exhausted) ctx.emit('job:discarded', { job: entry.info, error, reason: 'max_attempts' });
    else ctx.emit('job:retried', { job: entry.info, error, delayMs });
  }

  /** The handler asked to run again later: the attempt is given back and no error recorded. */
  async snooze(entry: InFlight, delayMs: number): Promise<void> {
    const job = entry.job;
    const ctx = this.#ctx;
    try {
      let tries = 0;
      const held = await this.persist('snooze', () =>
        ctx.backend.fail(ctx.db, { id: job.id, token: job.leaseToken, to: 'available', delayMs, errorJson: null, refundAttempt: true, now: ctx.clock.sqlNow(), retried: ++tries > 1 }),
      );
      if (held) ctx.emit('job:snoozed', { job: entry.info, delayMs });
      else ctx.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    } catch (dbError) {
      ctx.report('snooze (gave up; the lease will expire and the job will be rescued)', dbError);
    }
  }

  /** A handler-requested end: cancelled or discarded, with the handler's reason recorded. */
  async end(entry: InFlight, error: CancelJob | DiscardJob, to: 'cancelled' | 'discarded'): Promise<void> {
    const reason = to === 'cancelled' ? 'cancelled_by_handler' : 'discarded_by_handler';
    const held = await this.#record(entry, error, to, 0, reason);
    if (held === undefined) return;
    if (!held) this.#ctx.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else if (to === 'cancelled') this.#ctx.emit('job:cancelled', { job: entry.info, reason: error.message });
    else this.#ctx.emit('job:discarded', { job: entry.info, error, reason: 'handler' });
  }

  /** A job that cannot run here (unknown kind, args that do not decode): discarded at once. */
  async discard(entry: InFlight, error: unknown, reason: DiscardReason): Promise<void> {
    entry.decided = true;
    const held = await this.#record(entry, error, 'discarded', 0, reason);
    if (held === undefined) return;
    if (!held) this.#ctx.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else this.#ctx.emit('job:discarded', { job: entry.info, error, reason });
  }

  /** Writes a failure; undefined when the database could not be reached (logged). */
  async #record(entry: InFlight, error: unknown, to: 'available' | 'discarded' | 'cancelled', delayMs: number, reason: string | undefined): Promise<boolean | undefined> {
    const ctx = this.#ctx;
    const at = ctx.clock.now();
    const errorJson = JSON.stringify(redactEntry(errorEntry(error, entry.job.attempt, at, reason), ctx.settings.redact));
    // If the database keeps refusing the entry itself (a limit we did not foresee), the outcome
    // still matters more than the details: later tries store a plain note instead.
    const plainJson = JSON.stringify({ at: at.toISOString(), attempt: entry.job.attempt, message: '[the error could not be stored; see the worker log]', ...(reason === undefined ? {} : { reason }) });
    let tries = 0;
    try {
      return await this.persist('fail', () =>
        ctx.backend.fail(ctx.db, { id: entry.job.id, token: entry.job.leaseToken, to, delayMs, errorJson: ++tries > 3 ? plainJson : errorJson, now: ctx.clock.sqlNow(), retried: tries > 1 }),
      );
    } catch (dbError) {
      ctx.report('fail (gave up; the lease will expire and the job will be rescued)', dbError);
      return undefined;
    }
  }
}
