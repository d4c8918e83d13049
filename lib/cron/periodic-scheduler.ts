/**
 * The scheduler a worker runs for its periodic jobs: at each slot it enqueues the slot's job
 * under a unique key, so any number of workers with the same definitions enqueue it once.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobState } from '../job.ts';
import type { JobRequest } from '../job-definition.ts';
import type { Logger } from '../logger.ts';
import type { UniqueEnqueueOptions, UniqueEnqueueResult } from '../unique.ts';
import type { PeriodicJob } from './periodic-job.ts';

/** Every state: a slot's key outlives its job's run, so a finished slot is never enqueued again. */
const ALL_STATES: readonly JobState[] = ['available', 'running', 'completed', 'cancelled', 'discarded'];
/** How soon a failed enqueue (database away) is tried again. */
const RETRY_MS = 1000;

/** What the scheduler needs from the client. */
export interface PeriodicEnqueuer {
  enqueueUniqueAutocommit(request: JobRequest, options: UniqueEnqueueOptions): Promise<UniqueEnqueueResult>;
}

/** The unique key of one slot of a periodic job. */
export function slotKey(name: string, slotMs: number): string {
  return `cron:${name}:${new Date(slotMs).toISOString()}`;
}

/**
 * Fires the periodic jobs of one worker. Catch-up policy: when a slot was missed (the process
 * was down, or this is its first tick), only the most recent slot is enqueued, and only if it is
 * at most the definition's `catchUpMs` old; older missed slots are skipped, never replayed.
 */
export class PeriodicScheduler {
  readonly #jobs: PeriodicEnqueuer;
  readonly #defs: readonly PeriodicJob[];
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** The latest slot handled (enqueued here, or found enqueued) per definition. */
  readonly #last = new Map<string, number>();
  #timer: TimerHandle | null = null;
  #running = false;
  #tick: Promise<void> = Promise.resolve();

  constructor(jobs: PeriodicEnqueuer, defs: readonly PeriodicJob[], clock: Clock, logger: Logger) {
    if (!Array.isArray(defs)) throw new InvalidOptionError('work: `periodic` must be an array of periodic(…) definitions.');
    const names = new Set<string>();
    for (const def of defs) {
      if (!def || typeof def.name !== 'string' || typeof def.schedule?.slotAfter !== 'function') {
        throw new InvalidOptionError('work: every entry of `periodic` must come from periodic().');
      }
      if (names.has(def.name)) throw new InvalidOptionError(`work: periodic job "${def.name}" is given twice.`);
      names.add(def.name);
    }
    this.#jobs = jobs;
    this.#defs = [...defs];
    this.#clock = clock;
    this.#logger = logger;
  }

  /** Fires the due slots now, then at each next slot. */
  start(): void {
    if (this.#running || this.#defs.length === 0) return;
    this.#running = true;
    this.#run();
  }

  /** Stops firing and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#tick;
  }

  /** Resolves when the tick in progress (if any) has finished its enqueues. For tests. */
  settled(): Promise<void> {
    return this.#tick;
  }

  #run(): void {
    this.#timer = null;
    this.#tick = this.#fire().catch((error: unknown) => this.#logger.error('periodic scheduler tick failed', { error }));
  }

  async #fire(): Promise<void> {
    const now = this.#clock.now().getTime();
    let failed = false;
    for (const def of this.#defs) {
      const slot = def.schedule.slotAtOrBefore(now);
      const last = this.#last.get(def.name);
      if (last !== undefined && slot <= last) continue;
      if (now - slot > def.catchUpMs) {
        // Missed long ago: skipped by the catch-up policy.
        this.#last.set(def.name, slot);
        continue;
      }
      const key = slotKey(def.name, slot);
      try {
        await this.#jobs.enqueueUniqueAutocommit(def.request, {
          ...def.options,
          metadata: { ...def.options.metadata, periodic: def.name, slot: new Date(slot).toISOString() },
          unique: { key, states: ALL_STATES },
        });
        this.#last.set(def.name, slot);
      } catch (error) {
        failed = true;
        this.#logger.warn(`periodic job "${def.name}": enqueue of ${key} failed; retrying`, { error });
      }
    }
    if (!this.#running) return;
    const after = this.#clock.now().getTime();
    const next = Math.min(...this.#defs.map((d) => d.schedule.slotAfter(after)));
    const delay = Math.max(0, failed ? Math.min(RETRY_MS, next - after) : next - after);
    this.#timer = this.#clock.setTimeout(() => this.#run(), delay);
  }
}
