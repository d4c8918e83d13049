/**
 * The dispatcher: claims due jobs, runs their handlers, records the outcomes.
 *
 * States: `new` → start() checks the schema → `running` → stop() → `stopping` → `stopped`.
 *
 * While running, one loop claims jobs (at most the free slots, one statement per claim) and
 * starts their handlers without awaiting them. It claims again at once while claims come back
 * full, waits for a free slot when all slots are busy, and otherwise sleeps for the poll interval.
 * Beside it:
 * - completions are buffered and flushed as one fenced UPDATE per flush;
 * - failures are recorded one by one (each carries its own error and next run time);
 * - a heartbeat extends the leases of running jobs in one statement per interval, and aborts
 *   any handler whose lease was lost;
 * - a rescuer returns jobs of dead workers (expired leases) to the queue.
 * Every write after the claim is fenced on the job's lease token, so a worker that lost a job
 * can never overwrite the newer execution's outcome.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.ts';
import type { Jobs } from './client.ts';
import type { Dialect, DispatcherDb } from './dialects/dialect.ts';
import { errorEntry, MAX_ERROR_MESSAGE, redactEntry, redactText } from './error-entry.ts';
import { CancelJob, DiscardJob, InvalidOptionError, JobTimeoutError, LeaseLostError, ShutdownError, SnoozeJob, StateError, UnknownJobKindError } from './errors.ts';
import { TypedEmitter } from './events.ts';
import type { ClaimedJob, Fence, JobErrorEntry } from './job.ts';
import type { Listener } from './sql/executor.ts';
import type { JobContext } from './job-definition.ts';
import { normalizeLogger, type Logger, type SafeLogger } from './logger.ts';
import { PeriodicScheduler } from './cron/periodic-scheduler.ts';
import type { PeriodicJob } from './cron/periodic-job.ts';
import { composeMiddleware, type JobMiddleware } from './middleware.ts';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { assertInt, assertName, type JsonObject } from './validation.ts';

/** Options of {@link Jobs.work}. */
export interface WorkOptions {
  /** Queues to serve. Default: the client's default queue. */
  queues?: readonly string[];
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /** Sleep between claims when the queue is drained. Default 1,000 ms. */
  pollIntervalMs?: number;
  /** When failed jobs run again. Default: exponential backoff with jitter (1 s, ×2, at most 1 h). */
  retryPolicy?: RetryPolicy;
  /** How long stop() waits for running handlers before aborting and releasing them. Default 30,000 ms. */
  shutdownTimeoutMs?: number;
  /** Wrappers around each execution, outermost first. */
  middleware?: readonly JobMiddleware[];
  /** How long a claim holds a job before other workers may rescue it. Default 30,000 ms. */
  leaseMs?: number;
  /** How often running jobs' leases are extended. Default 10,000 ms (must be below `leaseMs`). */
  heartbeatMs?: number;
  /** How often expired leases are looked for. Default 15,000 ms. */
  rescueIntervalMs?: number;
  /**
   * How long finished jobs are kept before this worker deletes them, in bounded batches, or
   * `false` to keep everything. Defaults: completed 24 h, cancelled and discarded 7 days,
   * checked every 60 s.
   */
  retention?: false | RetentionOptions;
  /**
   * PostgreSQL: LISTEN for enqueue notifications (through adapters that can, such as `pg`,
   * Knex, and Prisma given its `listen` option) so a new job starts within milliseconds; polling stays on as the safety net. Set
   * `false` behind PgBouncer in transaction pooling mode, where LISTEN does not work. Default true.
   */
  listen?: boolean;
  /**
   * Limits for single queues within `concurrency`, per worker: `{ emails: 2 }` runs at most two
   * `emails` jobs at once in this worker, whatever else it runs.
   */
  queueConcurrency?: Readonly<Record<string, number>>;
  /**
   * How often the worker re-reads which queues are paused (`jobs.pauseQueue`), in ms of clock
   * time. A pause needs no read: every claim statement leaves out the queues paused when it
   * runs. The read tells the worker which queues it need not ask for, so a resume from another
   * process reaches it at its first claim round after the next read (within about this
   * interval). Default 1,000; 0 reads before every claim.
   */
  pauseCheckMs?: number;
  /** This worker's name in the `locked_by` column. Default `host:pid:random`. */
  workerId?: string;
  /**
   * Rewrites every error message and stack before it is stored in `errors` or logged, e.g. to
   * mask secrets a handler's error might carry. Job args are never stored there or logged.
   */
  redact?: (text: string) => string;
  /**
   * Where warnings and errors go. Default: one line per event on the console (stacks only with
   * `NODE_DEBUG=concordia`). Missing `warn`/`error` methods fall back to that default, missing
   * `debug`/`info` do nothing, and a logger that throws is ignored.
   */
  logger?: Logger;
  /**
   * Periodic jobs this worker enqueues at each slot of their schedule (see `periodic()`); any
   * number of workers may carry the same definitions, each slot is enqueued once. Default none.
   */
  periodic?: readonly PeriodicJob[];
}

/** Ages after which finished jobs are deleted; see {@link WorkOptions.retention}. */
export interface RetentionOptions {
  completedMs?: number;
  cancelledMs?: number;
  discardedMs?: number;
  /** How often to prune. Default 60,000 ms. */
  intervalMs?: number;
}

/** A job as events describe it (never its args). */
export interface JobInfo {
  id: string;
  kind: string;
  queue: string;
  attempt: number;
  maxAttempts: number;
}

/** Why a job was discarded. */
export type DiscardReason = 'max_attempts' | 'unknown_kind' | 'invalid_args' | 'handler';

/** The events a {@link Worker} emits, by name. */
export interface WorkerEvents {
  /** The worker checked the schema and began claiming. */
  started: { workerId: string; queues: readonly string[] };
  'job:started': { job: JobInfo };
  /** An attempt failed (thrown, timed out); `job:retried` or `job:discarded` follows once recorded. */
  'job:failed': { job: JobInfo; error: unknown };
  'job:completed': { job: JobInfo; durationMs: number };
  'job:retried': { job: JobInfo; error: unknown; delayMs: number };
  'job:discarded': { job: JobInfo; error: unknown; reason: DiscardReason };
  /** The handler threw {@link SnoozeJob}: the job runs again after `delayMs`, this attempt not counted. */
  'job:snoozed': { job: JobInfo; delayMs: number };
  /** The handler threw {@link CancelJob}. */
  'job:cancelled': { job: JobInfo; reason: string };
  /**
   * A handler timed out and, a second after its signal was aborted, still has not returned: it
   * ignores its signal. Its outcome is recorded, but its slot stays taken until it returns (see
   * {@link Worker.stalled}).
   */
  'job:stalled': { job: JobInfo; timeoutMs: number };
  /** Finished jobs deleted by retention. */
  'jobs:pruned': { count: number };
  /** The job's outcome was not recorded: its lease had expired and it was rescued or re-claimed. */
  'job:lease-lost': { job: JobInfo; during: 'complete' | 'fail' | 'heartbeat' };
  /** Jobs of dead workers returned to the queue (or discarded when out of attempts). */
  'jobs:rescued': { count: number };
  /** stop() was called: no more claims; `running` handlers get the shutdown grace period. */
  stopping: { running: number };
  /** The LISTEN connection is up (again); `reconnects` counts how often it was re-opened. */
  listening: { reconnects: number };
  /**
   * The worker is idle: a claim found no due job in its queues (paused queues excepted), no
   * handler of this worker is running and every outcome has been written. Emitted after each
   * such claim, so about once per `pollIntervalMs` while the queues stay empty. Jobs scheduled
   * for later do not count. See {@link Worker.drained}.
   */
  idle: { running: 0 };
  /** A database call failed; the worker keeps going and retries. */
  'db-error': { operation: string; error: unknown };
  stopped: Record<string, never>;
}

interface InFlight {
  job: ClaimedJob;
  info: JobInfo;
  controller: AbortController;
  /** The outcome is known (recorded, queued or released): later outcomes are ignored. */
  decided: boolean;
  released: boolean;
  /** A transactional handler committed its completion itself. */
  completedInTx?: boolean;
}

/** How long a timed-out handler may take to honour its aborted signal before it counts as stalled. */
const STALL_GRACE_MS = 1000;
const RESCUE_BATCH = 1000;
const COMPLETE_BATCH = 1000;
const PRUNE_BATCH = 1000;

/** A running dispatcher; see {@link Jobs.work}. Dispose with `await using` or `await worker.stop()`. */
export class Worker extends TypedEmitter<WorkerEvents> {
  /** This worker's id, as stored in `locked_by`. */
  readonly id: string;
  readonly #jobs: Jobs<unknown>;
  readonly #dialect: Dialect;
  readonly #db: DispatcherDb;
  readonly #clock: Clock;
  readonly #queues: readonly string[];
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #retry: RetryPolicy;
  readonly #shutdownMs: number;
  readonly #middleware: readonly JobMiddleware[];
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #rescueMs: number;
  readonly #logger: SafeLogger;
  readonly #redact: ((text: string) => string) | undefined;
  readonly #retention: { state: 'completed' | 'cancelled' | 'discarded'; olderThanMs: number }[];
  readonly #pruneMs: number;
  readonly #listen: boolean;
  #listener: Listener | null = null;
  /** Enqueues the periodic jobs' slots; null without `periodic`. */
  readonly #scheduler: PeriodicScheduler | null;
  #listenAttempts = 0;
  #listenStarts = 0;

  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  readonly #inflight = new Map<string, InFlight>();
  readonly #executions = new Set<Promise<void>>();
  #wakeUp: (() => void) | null = null;
  readonly #queueLimits: ReadonlyMap<string, number>;
  readonly #runningByQueue = new Map<string, number>();
  readonly #pauseCheckMs: number;
  #paused = new Set<string>();
  #pausedCheckedAt = Number.NEGATIVE_INFINITY;
  #pausedStale = true;
  /** The periodic paused-queues read running beside a claim, if any. */
  #pausedReading: Promise<void> | null = null;
  /**
   * Consecutive claim rounds that came back short; drives the idle poll backoff. It starts high,
   * so a worker that has seen no work yet simply waits its poll interval.
   */
  #idleRounds = 16;
  #wakePending = false;
  #waitingForSlot = false;
  #loopDone: Promise<void> = Promise.resolve();
  #completions: { entry: InFlight; durationMs: number }[] = [];
  #flushing: Promise<void> | null = null;
  readonly #timers = new Set<TimerHandle>();
  #stopping: Promise<void> | null = null;
  #stalled = 0;
  /** Claim rounds started so far; a drained() waiter needs a round that began after its call. */
  #rounds = 0;
  /** Callers of drained(): resolved by the first idle round numbered above `after`. */
  #drainWaiters: { after: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** The loop sleeps after a claim that came back short. */
  #idleSleep = false;
  /** Kinds without a handler already logged, so each is warned about once. */
  readonly #unknownKinds = new Set<string>();

  /** @internal Use {@link Jobs.work} or {@link Jobs.createWorker}. */
  constructor(jobs: Jobs<unknown>, o: WorkOptions) {
    super();
    this.#jobs = jobs;
    this.#dialect = jobs.dialect;
    this.#db = jobs.dispatcherDb();
    this.#clock = jobs.clock;
    if (o === null || typeof o !== 'object') throw new InvalidOptionError('work: options must be an object.');
    const queues = o.queues ?? [jobs.defaultQueue];
    if (!Array.isArray(queues) || queues.length === 0) throw new StateError('work: `queues` must be a non-empty array.');
    this.#queues = [...new Set(queues.map((q) => assertName('queue', q)))];
    this.#concurrency = assertInt('concurrency', o.concurrency ?? 10, 1, 10_000);
    this.#pollMs = assertInt('pollIntervalMs', o.pollIntervalMs ?? 1000, 1, 3_600_000);
    this.#retry = o.retryPolicy ?? defaultRetryPolicy;
    this.#shutdownMs = assertInt('shutdownTimeoutMs', o.shutdownTimeoutMs ?? 30_000, 0, 3_600_000);
    if (o.middleware !== undefined && (!Array.isArray(o.middleware) || o.middleware.some((m) => typeof m !== 'function'))) {
      throw new InvalidOptionError('work: `middleware` must be an array of functions.');
    }
    if (o.retryPolicy !== undefined && typeof o.retryPolicy?.delayMs !== 'function') {
      throw new InvalidOptionError('work: `retryPolicy` must be an object with a delayMs(attempt, error) function, e.g. exponentialBackoff().');
    }
    if (o.redact !== undefined && typeof o.redact !== 'function') throw new InvalidOptionError('work: `redact` must be a function.');
    this.#middleware = [...(o.middleware ?? [])];
    this.#leaseMs = assertInt('leaseMs', o.leaseMs ?? 30_000, 100, 86_400_000);
    this.#heartbeatMs = assertInt('heartbeatMs', o.heartbeatMs ?? Math.min(10_000, Math.floor(this.#leaseMs / 3)), 10, this.#leaseMs - 1);
    this.#rescueMs = assertInt('rescueIntervalMs', o.rescueIntervalMs ?? 15_000, 10, 86_400_000);
    this.id = assertName('worker id', o.workerId ?? `${hostname().replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 60) || 'host'}:${process.pid}:${randomUUID().slice(0, 8)}`);
    this.#logger = normalizeLogger(o.logger);
    this.#redact = o.redact;
    this.#scheduler = o.periodic === undefined ? null : new PeriodicScheduler(jobs, o.periodic, this.#clock, this.#logger);
    const r = o.retention === false ? null : (o.retention ?? {});
    const day = 86_400_000;
    this.#retention = r
      ? [
          { state: 'completed' as const, olderThanMs: assertInt('retention.completedMs', r.completedMs ?? day, 0, 100 * 365 * day) },
          { state: 'cancelled' as const, olderThanMs: assertInt('retention.cancelledMs', r.cancelledMs ?? 7 * day, 0, 100 * 365 * day) },
          { state: 'discarded' as const, olderThanMs: assertInt('retention.discardedMs', r.discardedMs ?? 7 * day, 0, 100 * 365 * day) },
        ]
      : [];
    this.#listen = o.listen !== false;
    const limits = new Map<string, number>();
    if (o.queueConcurrency !== undefined && (o.queueConcurrency === null || typeof o.queueConcurrency !== 'object')) {
      throw new InvalidOptionError('work: `queueConcurrency` must be an object of queue names to numbers.');
    }
    for (const [q, n] of Object.entries(o.queueConcurrency ?? {})) {
      limits.set(assertName('queue', q), assertInt(`queueConcurrency.${q}`, n, 1, this.#concurrency));
    }
    this.#queueLimits = limits;
    this.#pauseCheckMs = assertInt('pauseCheckMs', o.pauseCheckMs ?? 1000, 0, 3_600_000);
    if (!jobs.adapter.userTransaction) {
      const needy = [...jobs.registry.values()].filter((d) => d.defaults.transactional).map((d) => d.kind);
      if (needy.length > 0) {
        throw new StateError(`work: job kind(s) ${needy.join(', ')} are transactional, but the ${jobs.adapter.name} adapter has no userTransaction.`);
      }
    }
    this.#pruneMs = assertInt('retention.intervalMs', (r && r.intervalMs) ?? 60_000, 10, 86_400_000);
  }

  /** `running` while it claims, `stopping` during stop(), then `stopped`. */
  get state(): 'new' | 'running' | 'stopping' | 'stopped' {
    return this.#state;
  }

  /** Whether this worker serves `queue`. */
  serves(queue: string): boolean {
    return this.#queues.includes(queue);
  }

  /** Number of handlers running now. */
  get running(): number {
    return this.#inflight.size;
  }

  /**
   * Handlers that timed out and still run, ignoring their aborted signal (`job:stalled`). Each
   * keeps its slot until it returns, so `concurrency - stalled` is what this worker can still run.
   */
  get stalled(): number {
    return this.#stalled;
  }

  /** Checks the database version and schema, then starts claiming. Throws a typed error if the table is missing. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StateError('This worker was already started.');
    await this.#dialect.verify(this.#db.autocommit);
    try {
      for (const warning of this.#jobs.adapter.setupWarnings?.() ?? []) this.#logger.warn(`concordia: ${warning}`, { workerId: this.id });
    } catch {
      // A setup check must never keep a worker from starting.
    }
    this.#state = 'running';
    this.emit('started', { workerId: this.id, queues: this.#queues });
    this.#loopDone = this.#loop();
    this.#every(this.#heartbeatMs, () => this.#heartbeat());
    void this.#rescue();
    this.#every(this.#rescueMs, () => this.#rescue());
    if (this.#retention.length > 0) this.#every(this.#pruneMs, async () => void (await this.prune()));
    if (this.#listen && this.#dialect.channel && this.#jobs.adapter.listen) void this.#openListener();
    this.#scheduler?.start();
  }

  /** The scheduler of this worker's periodic jobs, or null when it has none. */
  get scheduler(): PeriodicScheduler | null {
    return this.#scheduler;
  }

  /**
   * Asks the loop to claim now instead of waiting out its poll interval. A wake that arrives
   * while a claim is in flight is kept, so the next wait returns at once.
   */
  wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  #info(job: ClaimedJob): JobInfo {
    return { id: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt, maxAttempts: job.maxAttempts };
  }

  /** Reports a failed database call: an event, and one log line. Never throws. */
  #report(operation: string, error: unknown): void {
    this.emit('db-error', { operation, error });
    let logged: unknown = error;
    if (this.#redact) logged = redactText(this.#redact, errorEntry(error, undefined, new Date(0)).message, MAX_ERROR_MESSAGE);
    this.#logger.error(`concordia: ${operation} failed; will retry`, { workerId: this.id, error: logged });
  }

  /** Applies the `redact` option to a stored error entry; a throwing redact withholds the text. */
  #redacted(entry: JobErrorEntry): JobErrorEntry {
    return redactEntry(entry, this.#redact);
  }

  /** Sleeps `ms` of clock time, or until {@link Worker.wake}. */
  #wait(ms: number): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        if (timer !== undefined) {
          this.#clock.clearTimeout(timer);
          this.#timers.delete(timer);
        }
        if (this.#wakeUp === done) this.#wakeUp = null;
        resolve();
      };
      this.#wakeUp = done;
      if (Number.isFinite(ms)) {
        timer = this.#clock.setTimeout(done, ms);
        this.#timers.add(timer);
      }
    });
  }

  /** Clock-time sleep that wake() does not cut short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const tick = (): void => {
      this.#timers.delete(timer);
      if (this.#state !== 'running') return;
      // Each task reports its own failures; the catch is the last line against an unhandled rejection.
      void fn()
        .catch((error: unknown) => this.#logger.error('concordia: unexpected error in a periodic task', { workerId: this.id, error }))
        .finally(() => {
          if (this.#state === 'running') {
            timer = this.#clock.setTimeout(tick, ms);
            this.#timers.add(timer);
          }
        });
    };
    let timer = this.#clock.setTimeout(tick, ms);
    this.#timers.add(timer);
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (this.#state === 'running') {
      const free = this.#concurrency - this.#inflight.size;
      if (free <= 0) {
        await this.#waitForSlot();
        continue;
      }
      let round: { claimed: ClaimedJob[]; requested: number; allPaused?: boolean; number: number };
      try {
        const number = ++this.#rounds;
        round = { ...(await this.#claimRound(free)), number };
        failures = 0;
      } catch (error) {
        failures++;
        this.#report('claim', error);
        await this.#wait(Math.min(this.#pollMs * 2 ** Math.min(failures, 8), 30_000));
        continue;
      }
      for (const job of round.claimed) this.#run(job);
      if (this.#state !== 'running') break;
      // Every open queue with room sits at its own limit: only a finishing job makes room.
      if (round.requested === 0 && !round.allPaused) await this.#waitForSlot();
      else if (round.claimed.length < round.requested || round.allPaused) {
        if (round.claimed.length === 0 && this.#settled()) this.#becameIdle(round.number);
        this.#idleSleep = true;
        await this.#wait(this.#idleWaitMs(round.claimed.length > 0));
        this.#idleSleep = false;
      } else this.#idleRounds = 0;
    }
  }

  /**
   * How long to sleep after a claim that found fewer jobs than it asked for. Without a LISTEN
   * connection (MariaDB, SQLite, poll-only PostgreSQL) the worker polls quickly right after it
   * saw work, 25 ms doubling per empty round up to `pollIntervalMs`, so a burst's follow-up jobs
   * start fast while an idle worker costs one claim per interval.
   */
  #idleWaitMs(sawWork: boolean): number {
    if (sawWork) this.#idleRounds = 0;
    if (this.#listener) return this.#pollMs;
    return Math.min(this.#pollMs, 25 * 2 ** Math.min(this.#idleRounds++, 16));
  }

  /** Nothing runs in this worker and every outcome has been written. */
  #settled(): boolean {
    return this.#inflight.size === 0 && this.#completions.length === 0 && this.#flushing === null;
  }

  #becameIdle(round: number): void {
    this.emit('idle', { running: 0 });
    const ready = this.#drainWaiters.filter((w) => w.after < round);
    if (ready.length === 0) return;
    this.#drainWaiters = this.#drainWaiters.filter((w) => w.after >= round);
    for (const w of ready) w.resolve();
  }

  /**
   * After the last running job's outcome is written while the loop sleeps after a short claim,
   * whoever waits for idleness (a drained() caller, an `idle` listener) should not wait out the
   * poll interval for the claim that proves the queues empty: ask for it now. That claim must
   * be a fresh one, since the finished jobs may have left due work behind (a retry, a follow-up).
   */
  #settledWake(): void {
    if (this.#idleSleep && this.#settled() && (this.#drainWaiters.length > 0 || this.hasListeners('idle'))) this.wake();
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
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ after: this.#rounds, resolve, reject });
      this.wake();
    });
  }

  async #waitForSlot(): Promise<void> {
    this.#waitingForSlot = true;
    await this.#wait(Number.POSITIVE_INFINITY);
    this.#waitingForSlot = false;
  }

  #claimJobs(queues: readonly string[], limit: number): Promise<ClaimedJob[]> {
    return this.#dialect.claim(this.#db, { queues, limit, workerId: this.id, leaseMs: this.#leaseMs, now: this.#clock.sqlNow() });
  }

  /**
   * One round of claims: a single statement over the open queues, or, where some queues have
   * their own concurrency limit, one statement per limited queue (for at most its free room)
   * and one for the rest. `requested` is how many jobs the round asked for.
   */
  async #claimRound(free: number): Promise<{ claimed: ClaimedJob[]; requested: number; allPaused?: boolean }> {
    await this.#refreshPaused();
    const open = this.#queues.filter((q) => !this.#paused.has(q));
    if (open.length === 0) return { claimed: [], requested: 0, allPaused: true };
    if (this.#queueLimits.size === 0) return { claimed: await this.#claimJobs(open, free), requested: free };
    const claimed: ClaimedJob[] = [];
    let remaining = free;
    let requested = 0;
    for (const q of open) {
      const max = this.#queueLimits.get(q);
      if (max === undefined) continue;
      const room = Math.min(remaining, max - (this.#runningByQueue.get(q) ?? 0));
      if (room <= 0) continue;
      const got = await this.#claimJobs([q], room);
      requested += room;
      remaining -= got.length;
      claimed.push(...got);
      if (remaining <= 0) return { claimed, requested };
    }
    const unlimited = open.filter((q) => !this.#queueLimits.has(q));
    if (unlimited.length > 0) {
      claimed.push(...(await this.#claimJobs(unlimited, remaining)));
      requested += remaining;
    }
    return { claimed, requested };
  }

  /**
   * Re-reads which queues are paused, at most every `pauseCheckMs`. This set only saves claims:
   * the claim statement itself leaves out queues paused in the database, so a stale set never
   * lets a paused queue's job run; it can only keep a queue resumed elsewhere unclaimed until
   * the next read. The claim waits for the read only when it must: at start, after a pause or
   * resume in this process, and with `pauseCheckMs: 0`. The periodic re-read runs beside the
   * claim instead of before it, so a worker woken after an idle second does not pay an extra
   * round trip before its first claim; its result applies from the next claim round on.
   */
  async #refreshPaused(): Promise<void> {
    const now = this.#clock.now().getTime();
    if (!this.#pausedStale && now - this.#pausedCheckedAt < this.#pauseCheckMs) return;
    if (this.#pausedStale || this.#pauseCheckMs === 0) {
      this.#pausedStale = false;
      this.#paused = new Set(await this.#dialect.pausedQueues(this.#db.autocommit));
      this.#pausedCheckedAt = now;
      return;
    }
    if (this.#pausedReading) return;
    this.#pausedCheckedAt = now;
    this.#pausedReading = this.#dialect
      .pausedQueues(this.#db.autocommit)
      .then(
        (queues) => {
          // A local pause or resume meanwhile marked the set stale; the next claim reads it afresh.
          if (!this.#pausedStale) this.#paused = new Set(queues);
        },
        (error: unknown) => this.#report('read paused queues', error),
      )
      .finally(() => {
        this.#pausedReading = null;
      });
  }

  /** @internal Called by the client after it paused or resumed a queue in this process. */
  pauseChanged(): void {
    this.#pausedStale = true;
    this.wake();
  }

  #run(job: ClaimedJob): void {
    const entry: InFlight = { job, info: this.#info(job), controller: new AbortController(), decided: false, released: false };
    this.#inflight.set(job.id, entry);
    this.#runningByQueue.set(job.queue, (this.#runningByQueue.get(job.queue) ?? 0) + 1);
    const execution: Promise<void> = this.#execute(entry)
      .catch((error: unknown) => this.#logger.error('concordia: unexpected error while running a job', { jobId: job.id, error }))
      .finally(() => {
        this.#inflight.delete(job.id);
        this.#runningByQueue.set(job.queue, (this.#runningByQueue.get(job.queue) ?? 1) - 1);
        this.#executions.delete(execution);
        if (this.#waitingForSlot) this.wake();
        else this.#settledWake();
      });
    this.#executions.add(execution);
  }

  async #execute(entry: InFlight): Promise<void> {
    const { job } = entry;
    const definition = this.#jobs.registry.get(job.kind);
    if (!definition) {
      if (!this.#unknownKinds.has(job.kind)) {
        this.#unknownKinds.add(job.kind);
        this.#logger.warn(`concordia: no handler is registered for job kind "${job.kind}" in this worker; its jobs are discarded (reason unknown_kind). Logged once per kind.`, {
          workerId: this.id,
          kind: job.kind,
          jobId: job.id,
        });
      }
      return this.#discard(entry, new UnknownJobKindError(job.kind, `No handler for kind "${job.kind}" in this worker; discarded.`), 'unknown_kind');
    }
    let args: unknown;
    let metadata: JsonObject | null;
    try {
      args = decodeObject(job.args, 'args');
      metadata = job.metadata === null ? null : decodeObject(job.metadata, 'metadata');
      if (definition.parse) args = definition.parse(args);
    } catch (error) {
      return this.#discard(entry, error, 'invalid_args');
    }
    const ctx: JobContext = {
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
      logger: this.#logger,
    };
    this.emit('job:started', { job: entry.info });
    const startedAt = performance.now();
    const handling = Promise.resolve().then(() =>
      composeMiddleware(this.#middleware, { ...ctx, args }, async () => {
        if (definition.defaults.transactional) await this.#runInTransaction(entry, definition.handler, args, ctx);
        else await definition.handler(args, ctx);
      }),
    );
    const timeoutMs = definition.defaults.timeoutMs;
    let settled = false;
    handling.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    let timer: TimerHandle | undefined;
    let stallTimer: TimerHandle | undefined;
    let stalled = false;
    const outcome = await new Promise<{ ok: true } | { ok: false; error: unknown }>((resolve) => {
      handling.then(
        () => resolve({ ok: true }),
        (error: unknown) => resolve({ ok: false, error }),
      );
      if (timeoutMs !== undefined) {
        timer = this.#clock.setTimeout(() => {
          const error = new JobTimeoutError(timeoutMs);
          entry.controller.abort(error);
          resolve({ ok: false, error });
          stallTimer = this.#clock.setTimeout(() => {
            this.#timers.delete(stallTimer!);
            if (settled) return;
            stalled = true;
            this.#stalled++;
            this.emit('job:stalled', { job: entry.info, timeoutMs });
          }, STALL_GRACE_MS);
          this.#timers.add(stallTimer);
        }, timeoutMs);
        this.#timers.add(timer);
      }
    });
    if (timer !== undefined) {
      this.#clock.clearTimeout(timer);
      this.#timers.delete(timer);
    }
    if (!entry.decided) {
      entry.decided = true;
      if (outcome.ok && entry.completedInTx) this.emit('job:completed', { job: entry.info, durationMs: performance.now() - startedAt });
      else if (outcome.ok) this.#queueCompletion(entry, performance.now() - startedAt);
      else if (isA(outcome.error, SnoozeJob)) await this.#snooze(entry, outcome.error.delayMs);
      else if (isA(outcome.error, CancelJob)) await this.#end(entry, outcome.error, 'cancelled');
      else if (isA(outcome.error, DiscardJob)) await this.#end(entry, outcome.error, 'discarded');
      else await this.#fail(entry, outcome.error);
    }
    // The slot stays taken until the handler really returns: a timed-out handler that ignores
    // its signal still holds resources, and counting it keeps `concurrency` honest.
    await handling.catch(() => {});
    if (stallTimer !== undefined) {
      this.#clock.clearTimeout(stallTimer);
      this.#timers.delete(stallTimer);
    }
    if (stalled) this.#stalled--;
  }

  /**
   * Runs a `transactional` handler inside the adapter's user transaction and marks the job
   * completed in that same transaction. If the attempt was decided meanwhile (timed out) or the
   * lease is gone, it throws, so the transaction and the handler's writes roll back.
   */
  async #runInTransaction(entry: InFlight, handler: (args: unknown, ctx: JobContext) => unknown, args: unknown, ctx: JobContext): Promise<void> {
    const adapter = this.#jobs.adapter;
    await adapter.userTransaction!(async (tx) => {
      await handler(args, { ...ctx, tx });
      if (entry.decided) throw new LeaseLostError(entry.job.id);
      const held = await this.#dialect.completeWithin(adapter.bind(tx), { id: entry.job.id, token: entry.job.leaseToken }, this.#clock.sqlNow());
      if (!held) throw new LeaseLostError(entry.job.id);
      entry.completedInTx = true;
    });
  }

  /** Runs a database write, retrying transient failures with capped backoff. */
  async #persist<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        // After a few tries give up: the job stays `running` and the rescuer returns it once
        // its lease expires, so nothing is lost, only delayed.
        if (attempt >= 6) throw error;
        this.#report(operation, error);
        await this.#sleep(Math.min(50 * 2 ** attempt, 5000));
      }
    }
  }

  async #fail(entry: InFlight, error: unknown): Promise<void> {
    const { job } = entry;
    this.emit('job:failed', { job: entry.info, error });
    const exhausted = job.attempt >= job.maxAttempts;
    let delayMs = 0;
    if (!exhausted) {
      try {
        delayMs = Math.max(0, Math.min(Math.round(this.#retry.delayMs(job.attempt, error)), 365 * 24 * 3600 * 1000));
      } catch (policyError) {
        this.#logger.error('concordia: the retry policy threw; retrying in 1 s', { error: policyError });
        delayMs = 1000;
      }
      if (!Number.isFinite(delayMs)) delayMs = 1000;
    }
    const held = await this.#record(entry, error, exhausted ? 'discarded' : 'available', delayMs, undefined);
    if (held === undefined) return;
    if (!held) this.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else if (exhausted) this.emit('job:discarded', { job: entry.info, error, reason: 'max_attempts' });
    else this.emit('job:retried', { job: entry.info, error, delayMs });
  }

  async #snooze(entry: InFlight, delayMs: number): Promise<void> {
    const job = entry.job;
    try {
      let tries = 0;
      const held = await this.#persist('snooze', () =>
        this.#dialect.fail(this.#db, { id: job.id, token: job.leaseToken, to: 'available', delayMs, errorJson: null, refundAttempt: true, now: this.#clock.sqlNow(), retried: ++tries > 1 }),
      );
      if (held) this.emit('job:snoozed', { job: entry.info, delayMs });
      else this.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    } catch (dbError) {
      this.#report('snooze (gave up; the lease will expire and the job will be rescued)', dbError);
    }
  }

  /** A handler-requested end: cancelled or discarded, with the handler's reason recorded. */
  async #end(entry: InFlight, error: CancelJob | DiscardJob, to: 'cancelled' | 'discarded'): Promise<void> {
    const reason = to === 'cancelled' ? 'cancelled_by_handler' : 'discarded_by_handler';
    const held = await this.#record(entry, error, to, 0, reason);
    if (held === undefined) return;
    if (!held) this.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else if (to === 'cancelled') this.emit('job:cancelled', { job: entry.info, reason: error.message });
    else this.emit('job:discarded', { job: entry.info, error, reason: 'handler' });
  }

  async #discard(entry: InFlight, error: unknown, reason: DiscardReason): Promise<void> {
    entry.decided = true;
    const held = await this.#record(entry, error, 'discarded', 0, reason);
    if (held === undefined) return;
    if (!held) this.emit('job:lease-lost', { job: entry.info, during: 'fail' });
    else this.emit('job:discarded', { job: entry.info, error, reason });
  }

  /** Writes a failure; undefined when the database could not be reached (logged). */
  async #record(entry: InFlight, error: unknown, to: 'available' | 'discarded' | 'cancelled', delayMs: number, reason: string | undefined): Promise<boolean | undefined> {
    const at = this.#clock.now();
    const errorJson = JSON.stringify(this.#redacted(errorEntry(error, entry.job.attempt, at, reason)));
    // If the database keeps refusing the entry itself (a limit we did not foresee), the outcome
    // still matters more than the details: later tries store a plain note instead.
    const plainJson = JSON.stringify({ at: at.toISOString(), attempt: entry.job.attempt, message: '[the error could not be stored; see the worker log]', ...(reason === undefined ? {} : { reason }) });
    let tries = 0;
    try {
      return await this.#persist('fail', () =>
        this.#dialect.fail(this.#db, { id: entry.job.id, token: entry.job.leaseToken, to, delayMs, errorJson: ++tries > 3 ? plainJson : errorJson, now: this.#clock.sqlNow(), retried: tries > 1 }),
      );
    } catch (dbError) {
      this.#report('fail (gave up; the lease will expire and the job will be rescued)', dbError);
      return undefined;
    }
  }

  #queueCompletion(entry: InFlight, durationMs: number): void {
    this.#completions.push({ entry, durationMs });
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
      this.#settledWake();
    });
  }

  async #flush(): Promise<void> {
    // Start at the end of this turn of the event loop, not at the first completion: handlers that
    // finish together (a claimed batch of quick jobs) then share one UPDATE instead of the first
    // going alone. Completions that arrive while an UPDATE is in flight go out together in the next.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#completions.length > 0) {
      const batch = this.#completions.splice(0, COMPLETE_BATCH);
      const fences: Fence[] = batch.map((c) => ({ id: c.entry.job.id, token: c.entry.job.leaseToken }));
      let done: Set<string>;
      try {
        done = await this.#persist('complete', () => this.#dialect.complete(this.#db, fences, this.#clock.sqlNow()));
      } catch (error) {
        this.#report('complete (gave up; the leases will expire and the jobs will run again)', error);
        continue;
      }
      for (const c of batch) {
        if (done.has(c.entry.job.id)) this.emit('job:completed', { job: c.entry.info, durationMs: c.durationMs });
        else this.emit('job:lease-lost', { job: c.entry.info, during: 'complete' });
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const entries = [...this.#inflight.values()].filter((e) => !e.decided);
    if (entries.length === 0) return;
    let held: Set<string>;
    try {
      held = await this.#dialect.extendLeases(
        this.#db,
        entries.map((e) => ({ id: e.job.id, token: e.job.leaseToken })),
        this.#leaseMs,
        this.#clock.sqlNow(),
      );
    } catch (error) {
      this.#report('heartbeat', error);
      return;
    }
    for (const e of entries) {
      if (held.has(e.job.id) || e.decided) continue;
      e.decided = true;
      e.controller.abort(new LeaseLostError(e.job.id));
      this.emit('job:lease-lost', { job: e.info, during: 'heartbeat' });
    }
  }

  async #rescue(): Promise<void> {
    const errorJson = JSON.stringify({
      at: this.#clock.now().toISOString(),
      message: 'Lease expired: the worker running this attempt stopped renewing it (crashed, killed or blocked).',
      reason: 'lease_expired',
    });
    try {
      const count = await this.#dialect.rescue(this.#db, errorJson, RESCUE_BATCH, this.#clock.sqlNow());
      if (count > 0) {
        this.emit('jobs:rescued', { count });
        this.wake();
      }
    } catch (error) {
      this.#report('rescue', error);
    }
  }

  /** Opens the LISTEN connection; on failure or loss, retries with capped backoff until stop(). */
  async #openListener(): Promise<void> {
    const listen = this.#jobs.adapter.listen;
    const channel = this.#dialect.channel;
    if (!listen || !channel || this.#state !== 'running') return;
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      this.#report('listen (connection lost; polling continues while it reconnects)', error);
      const old = this.#listener;
      this.#listener = null;
      void old?.close().catch(() => {});
      void this.#retryListener();
    };
    try {
      const listener = await listen.call(
        this.#jobs.adapter,
        channel,
        (payload) => {
          if (payload === '*' || payload.split(',').some((q) => this.#queues.includes(q))) this.wake();
        },
        onLost,
      );
      if (this.#state !== 'running' || lost) {
        await listener.close().catch(() => {});
        return;
      }
      this.#listener = listener;
      this.#listenAttempts = 0;
      this.emit('listening', { reconnects: this.#listenStarts++ });
      // Jobs enqueued while the connection was down notified nobody: look now.
      this.wake();
    } catch (error) {
      if (!lost) {
        lost = true;
        this.#report('listen', error);
        void this.#retryListener();
      }
    }
  }

  async #retryListener(): Promise<void> {
    const delay = Math.min(250 * 2 ** this.#listenAttempts++, 30_000);
    await this.#sleep(delay);
    await this.#openListener();
  }

  /**
   * Deletes finished jobs past their retention age now, in batches of 1,000 (at most 10 batches
   * per state per call, so one call stays short). The worker also does this every
   * `retention.intervalMs`. Returns how many rows it deleted.
   */
  async prune(): Promise<number> {
    let total = 0;
    for (const rule of this.#retention) {
      for (let batch = 0; batch < 10; batch++) {
        let n: number;
        try {
          n = await this.#dialect.prune(this.#db, { ...rule, limit: PRUNE_BATCH, now: this.#clock.sqlNow() });
        } catch (error) {
          this.#report('prune', error);
          break;
        }
        total += n;
        if (n < PRUNE_BATCH) break;
      }
    }
    if (total > 0) this.emit('jobs:pruned', { count: total });
    return total;
  }

  /**
   * Stops gracefully: no new claims; waits up to `shutdownTimeoutMs` for running handlers; then
   * releases the jobs still running back to the queue (their attempt is not counted) and aborts
   * their handlers; finally flushes pending completions. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(new StateError('drained(): the worker stopped before its queues were drained.'));
    if (this.#state === 'new' || this.#state === 'stopped') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    await this.#scheduler?.stop();
    this.wake();
    await this.#loopDone;
    if (this.#inflight.size > 0) {
      const grace = this.#sleep(this.#shutdownMs);
      this.emit('stopping', { running: this.#inflight.size });
      await Promise.race([Promise.allSettled([...this.#executions]), grace]);
    } else {
      this.emit('stopping', { running: 0 });
    }
    const left = [...this.#inflight.values()].filter((e) => !e.decided);
    if (left.length > 0) {
      for (const e of left) {
        e.decided = true;
        e.released = true;
      }
      try {
        await this.#dialect.release(this.#db, left.map((e) => ({ id: e.job.id, token: e.job.leaseToken })), this.#clock.sqlNow());
      } catch (error) {
        this.#report('release on shutdown (the leases will expire and the jobs will be rescued)', error);
      }
      for (const e of left) e.controller.abort(new ShutdownError());
    }
    while (this.#flushing) await this.#flushing;
    if (this.#pausedReading) await this.#pausedReading;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close().catch(() => {});
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers.clear();
    this.#state = 'stopped';
    this.emit('stopped', {});
  }

  /** `await using worker = await jobs.work()` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
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
