/**
 * The options of {@link Jobs.work}: their public shape, their defaults, and the checks that turn
 * a caller's object into the settings the worker's roles read. Every default is chosen here, so
 * a reader finds each one (and why) in one place.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Jobs } from '../client.ts';
import type { PeriodicJob } from '../cron/periodic-job.ts';
import { InvalidOptionError, StateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JobMiddleware } from '../middleware.ts';
import { defaultRetryPolicy, type RetryPolicy } from '../retry-policy.ts';
import { assertInt, assertName } from '../validation.ts';

/** Options of {@link Jobs.work}. */
export interface WorkOptions {
  /** Queues to serve. Default: the client's default queue. */
  queues?: readonly string[];
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /**
   * The most jobs this worker claims ahead of its handlers: claimed (leased, covered by the
   * heartbeat) and waiting for a free slot, so a finishing handler starts the next job without a
   * round trip and one claim statement carries many jobs even at a small `concurrency`. The
   * worker sizes the buffer itself below this cap, from its measured handler time and claim
   * round trip (enough jobs to keep every slot busy during one claim, doubled): quick jobs get
   * a deep buffer, slow jobs almost none, so a worker never hoards jobs that other processes
   * could start sooner. Buffered jobs are released on stop without using an attempt. `0` claims
   * only for free slots. Default 200: on PostgreSQL a drain of quick jobs at `concurrency: 10`
   * ran about 20 % faster than with 100 (each claim then carries about 100 jobs) and no faster
   * with 400 (bench/RESULTS.md).
   */
  prefetch?: number;
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
   * PostgreSQL: LISTEN for enqueue notifications (through adapters that can: `pg`, Knex and
   * Prisma) so a new job starts within milliseconds; polling stays on as the safety net. Set
   * `false` behind PgBouncer in transaction pooling mode, where LISTEN does not work. Default true.
   */
  listen?: boolean;
  /**
   * Limits for single queues within `concurrency`, per worker: `{ emails: 2 }` runs at most two
   * `emails` jobs at once in this worker, whatever else it runs. Jobs of a limited queue are
   * never claimed ahead (see `prefetch`).
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

/** One retention rule: delete jobs in `state` finished more than `olderThanMs` ago. */
export interface RetentionRule {
  state: 'completed' | 'cancelled' | 'discarded';
  olderThanMs: number;
}

/** {@link WorkOptions} checked, with every default filled in. */
export interface WorkSettings {
  workerId: string;
  queues: readonly string[];
  concurrency: number;
  prefetch: number;
  pollMs: number;
  retry: RetryPolicy;
  shutdownMs: number;
  middleware: readonly JobMiddleware[];
  leaseMs: number;
  heartbeatMs: number;
  rescueMs: number;
  retention: readonly RetentionRule[];
  pruneMs: number;
  listen: boolean;
  queueLimits: ReadonlyMap<string, number>;
  pauseCheckMs: number;
  redact: ((text: string) => string) | undefined;
}

const DAY = 86_400_000;

/** Checks `o` and fills in the defaults; throws a typed error naming the first bad option. */
export function resolveWorkOptions(jobs: Jobs<unknown>, o: WorkOptions): WorkSettings {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('work: options must be an object.');
  const queues = o.queues ?? [jobs.defaultQueue];
  if (!Array.isArray(queues) || queues.length === 0) throw new StateError('work: `queues` must be a non-empty array.');
  if (o.middleware !== undefined && (!Array.isArray(o.middleware) || o.middleware.some((m) => typeof m !== 'function'))) {
    throw new InvalidOptionError('work: `middleware` must be an array of functions.');
  }
  if (o.retryPolicy !== undefined && typeof o.retryPolicy?.delayMs !== 'function') {
    throw new InvalidOptionError('work: `retryPolicy` must be an object with a delayMs(attempt, error) function, e.g. exponentialBackoff().');
  }
  if (o.redact !== undefined && typeof o.redact !== 'function') throw new InvalidOptionError('work: `redact` must be a function.');
  const concurrency = assertInt('concurrency', o.concurrency ?? 10, 1, 10_000);
  const leaseMs = assertInt('leaseMs', o.leaseMs ?? 30_000, 100, DAY);
  const r = o.retention === false ? null : (o.retention ?? {});
  const limits = new Map<string, number>();
  if (o.queueConcurrency !== undefined && (o.queueConcurrency === null || typeof o.queueConcurrency !== 'object')) {
    throw new InvalidOptionError('work: `queueConcurrency` must be an object of queue names to numbers.');
  }
  for (const [q, n] of Object.entries(o.queueConcurrency ?? {})) {
    limits.set(assertName('queue', q), assertInt(`queueConcurrency.${q}`, n, 1, concurrency));
  }
  if (!jobs.adapter.userTransaction) {
    const needy = [...jobs.registry.values()].filter((d) => d.defaults.transactional).map((d) => d.kind);
    if (needy.length > 0) {
      throw new StateError(`work: job kind(s) ${needy.join(', ')} are transactional, but the ${jobs.adapter.name} adapter has no userTransaction.`);
    }
  }
  return {
    workerId: assertName('worker id', o.workerId ?? defaultWorkerId()),
    queues: [...new Set(queues.map((q) => assertName('queue', q)))],
    concurrency,
    prefetch: assertInt('prefetch', o.prefetch ?? 200, 0, 10_000),
    pollMs: assertInt('pollIntervalMs', o.pollIntervalMs ?? 1000, 1, 3_600_000),
    retry: o.retryPolicy ?? defaultRetryPolicy,
    shutdownMs: assertInt('shutdownTimeoutMs', o.shutdownTimeoutMs ?? 30_000, 0, 3_600_000),
    middleware: [...(o.middleware ?? [])],
    leaseMs,
    heartbeatMs: assertInt('heartbeatMs', o.heartbeatMs ?? Math.min(10_000, Math.floor(leaseMs / 3)), 10, leaseMs - 1),
    rescueMs: assertInt('rescueIntervalMs', o.rescueIntervalMs ?? 15_000, 10, DAY),
    retention: r
      ? [
          { state: 'completed', olderThanMs: assertInt('retention.completedMs', r.completedMs ?? DAY, 0, 100 * 365 * DAY) },
          { state: 'cancelled', olderThanMs: assertInt('retention.cancelledMs', r.cancelledMs ?? 7 * DAY, 0, 100 * 365 * DAY) },
          { state: 'discarded', olderThanMs: assertInt('retention.discardedMs', r.discardedMs ?? 7 * DAY, 0, 100 * 365 * DAY) },
        ]
      : [],
    pruneMs: assertInt('retention.intervalMs', (r && r.intervalMs) ?? 60_000, 10, DAY),
    listen: o.listen !== false,
    queueLimits: limits,
    pauseCheckMs: assertInt('pauseCheckMs', o.pauseCheckMs ?? 1000, 0, 3_600_000),
    redact: o.redact,
  };
}

function defaultWorkerId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 60) || 'host'}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
