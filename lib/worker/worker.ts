/**
 * The dispatcher a user starts with {@link Jobs.work}: claims due jobs, runs their handlers,
 * records the outcomes. This file holds its public face and lifecycle; the work is split by role,
 * each in its own file:
 * - {@link Producer} (producer.ts): the claim loop and the buffer of jobs claimed ahead;
 * - {@link JobRunner} (job-runner.ts): the slots, and one execution per claimed job;
 * - {@link Completer} (completer.ts): every outcome written, fenced, completions batched;
 * - {@link Maintenance} (maintenance.ts): heartbeat, rescue of dead workers' jobs, retention;
 * - {@link Notifier} (notifier.ts): the LISTEN connection that wakes the producer.
 *
 * States: `new` → start() checks the schema → `running` → stop() → `stopping` → `stopped`.
 * Every write after the claim is fenced on the job's lease token, so a worker that lost a job
 * can never overwrite the newer execution's outcome.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import { PeriodicScheduler } from '../cron/periodic-scheduler.ts';
import { errorEntry, MAX_ERROR_MESSAGE, redactText } from '../error-entry.ts';
import { ShutdownError, StateError } from '../errors.ts';
import { TypedEmitter } from '../events.ts';
import { normalizeLogger } from '../logger.ts';
import { Completer } from './completer.ts';
import { JobRunner } from './job-runner.ts';
import { Maintenance } from './maintenance.ts';
import { Notifier } from './notifier.ts';
import { PausedQueues } from './paused-queues.ts';
import { Producer } from './producer.ts';
import { resolveWorkOptions, type WorkOptions } from './work-options.ts';
import type { WorkerContext } from './worker-context.ts';
import type { WorkerEvents } from './worker-events.ts';
import { WorkerTimers } from './worker-timers.ts';

export type { WorkOptions, RetentionOptions } from './work-options.ts';
export type { WorkerEvents, JobInfo, DiscardReason } from './worker-events.ts';

/** A running dispatcher; see {@link Jobs.work}. Dispose with `await using` or `await worker.stop()`. */
export class Worker extends TypedEmitter<WorkerEvents> {
  /** This worker's id, as stored in `locked_by`. */
  readonly id: string;
  readonly #ctx: WorkerContext;
  readonly #runner: JobRunner;
  readonly #completer: Completer;
  readonly #producer: Producer;
  readonly #paused: PausedQueues;
  readonly #maintenance: Maintenance;
  readonly #notifier: Notifier;
  /** Enqueues the periodic jobs' slots; null without `periodic`. */
  readonly #scheduler: PeriodicScheduler | null;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #stopping: Promise<void> | null = null;

  /** @internal Use {@link Jobs.work} or {@link Jobs.createWorker}. */
  constructor(jobs: Jobs<unknown>, options: WorkOptions) {
    super();
    const settings = resolveWorkOptions(jobs, options);
    this.id = settings.workerId;
    const logger = normalizeLogger(options.logger);
    const ctx: WorkerContext = {
      jobs,
      backend: jobs.backend,
      db: jobs.dispatcherDb(),
      clock: jobs.clock,
      timers: new WorkerTimers(jobs.clock),
      logger,
      settings,
      emit: (event, payload) => this.emit(event, payload),
      listens: (event) => this.hasListeners(event),
      report: (operation, error) => this.#report(operation, error),
      running: () => this.#state === 'running',
    };
    this.#ctx = ctx;
    this.#scheduler = options.periodic === undefined ? null : new PeriodicScheduler(jobs, options.periodic, jobs.clock, logger);
    this.#paused = new PausedQueues(ctx);
    // Called only after the constructor has run, once the producer exists.
    this.#completer = new Completer(ctx, () => this.#producer.flushed());
    this.#runner = new JobRunner(ctx, this.#completer);
    this.#notifier = new Notifier(ctx, () => this.wake());
    const producer = new Producer(ctx, this.#runner, this.#completer, this.#paused, () => this.#notifier.listening);
    this.#producer = producer;
    this.#maintenance = new Maintenance(
      ctx,
      {
        running: () => this.#runner.undecided(),
        buffered: () => producer.buffered(),
        dropBuffered: (ids) => producer.dropBuffered(ids),
      },
      () => this.wake(),
    );
  }

  /** `running` while it claims, `stopping` during stop(), then `stopped`. */
  get state(): 'new' | 'running' | 'stopping' | 'stopped' {
    return this.#state;
  }

  /** Whether this worker serves `queue`. */
  serves(queue: string): boolean {
    return this.#ctx.settings.queues.includes(queue);
  }

  /** Number of handlers running now. */
  get running(): number {
    return this.#runner.size;
  }

  /**
   * Handlers that timed out and still run, ignoring their aborted signal (`job:stalled`). Each
   * keeps its slot until it returns, so `concurrency - stalled` is what this worker can still run.
   */
  get stalled(): number {
    return this.#runner.stalled;
  }

  /** The scheduler of this worker's periodic jobs, or null when it has none. */
  get scheduler(): PeriodicScheduler | null {
    return this.#scheduler;
  }

  /** Checks the database version and schema, then starts claiming. Throws a typed error if the table is missing. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StateError('This worker was already started.');
    const { backend, db, jobs, logger } = this.#ctx;
    const storeWarnings = (await backend.verify(db.autocommit)) ?? [];
    for (const warning of storeWarnings) logger.warn(`concordia: ${warning}`, { workerId: this.id });
    try {
      for (const warning of jobs.adapter.setupWarnings?.() ?? []) logger.warn(`concordia: ${warning}`, { workerId: this.id });
    } catch {
      // A setup check must never keep a worker from starting.
    }
    this.#state = 'running';
    this.emit('started', { workerId: this.id, queues: this.#ctx.settings.queues });
    this.#producer.start();
    this.#maintenance.start();
    this.#notifier.start();
    this.#scheduler?.start();
  }

  /**
   * Asks the loop to claim now instead of waiting out its poll interval. A wake that arrives
   * while a claim is in flight is kept, so the next wait returns at once.
   */
  wake(): void {
    this.#producer.wake();
  }

  /** @internal Called by the client after it paused or resumed a queue in this process. */
  pauseChanged(): void {
    this.#producer.pauseChanged();
  }

  /**
   * Resolves once this worker's queues are drained: a claim that started after this call found
   * no due job in them (paused queues excepted), nothing runs in this worker and every outcome
   * has been written. Jobs scheduled for later, or waiting out a retry delay, do not count; a
   * failed job retried at once does, so it runs first. It wakes the worker, so it does not wait
   * for the next poll. Rejects with {@link StateError} if the worker stops first. With several
   * workers (or processes) on the same queues, another one may still be running a job: this
   * speaks for this worker only.
   *
   * @example
   * ```ts
   * const worker = await jobs.work();
   * await worker.drained(); // everything due has run
   * await worker.stop();
   * ```
   */
  drained(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new StateError('drained(): this worker is stopping or stopped.'));
    }
    return this.#producer.drained();
  }

  /**
   * Deletes finished jobs past their retention age now, in batches of 1,000 (at most 10 batches
   * per state per call, so one call stays short). The worker also does this every
   * `retention.intervalMs`. Returns how many rows it deleted.
   */
  prune(): Promise<number> {
    return this.#maintenance.prune();
  }

  /**
   * Stops gracefully: no new claims, and jobs claimed ahead go back to the queue at once; waits
   * up to `shutdownTimeoutMs` for running handlers; then releases the jobs still running back to
   * the queue (their attempt is not counted) and aborts their handlers; finally flushes pending
   * completions. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#producer.rejectDrainWaiters();
    if (this.#state === 'new' || this.#state === 'stopped') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    await this.#scheduler?.stop();
    this.wake();
    await this.#producer.ended();
    // Jobs claimed ahead never started: give them back now, so other workers can run them
    // during this one's grace period.
    await this.#release(this.#producer.takeBuffered(), 'release of jobs claimed ahead on shutdown');
    const running = this.#runner.size;
    this.emit('stopping', { running });
    if (running > 0) await Promise.race([this.#runner.settle(), this.#ctx.timers.sleep(this.#ctx.settings.shutdownMs)]);
    const left = this.#runner.undecided();
    for (const e of left) {
      e.decided = true;
      e.released = true;
    }
    await this.#release(
      left.map((e) => e.job),
      'release on shutdown',
    );
    for (const e of left) e.controller.abort(new ShutdownError());
    await this.#completer.drain();
    await this.#paused.settle();
    await this.#notifier.stop();
    this.#ctx.timers.clearAll();
    this.#state = 'stopped';
    this.emit('stopped', {});
  }

  /** Returns jobs to the queue without using up their attempt; on failure their leases expire instead. */
  async #release(jobs: readonly { id: string; leaseToken: string }[], operation: string): Promise<void> {
    if (jobs.length === 0) return;
    const { backend, db, clock } = this.#ctx;
    try {
      await backend.release(
        db,
        jobs.map((j) => ({ id: j.id, token: j.leaseToken })),
        clock.sqlNow(),
      );
    } catch (error) {
      this.#report(`${operation} (the leases will expire and the jobs will be rescued)`, error);
    }
  }

  /** Reports a failed database call: an event, and one log line. Never throws. */
  #report(operation: string, error: unknown): void {
    this.emit('db-error', { operation, error });
    let logged: unknown = error;
    const { redact } = this.#ctx.settings;
    if (redact) logged = redactText(redact, errorEntry(error, undefined, new Date(0)).message, MAX_ERROR_MESSAGE);
    this.#ctx.logger.error(`concordia: ${operation} failed; will retry`, { workerId: this.id, error: logged });
  }

  /** `await using worker = await jobs.work()` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
