/**
 * Running every due job to the end in a test, through a real worker on the real database.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import { silentLogger } from '../logger.ts';
import type { JobInfo, WorkOptions } from '../worker/worker.ts';
import { InvalidOptionError } from '../errors.ts';

/** Options of {@link drainQueue}: the worker's own options, minus those drain controls. */
export interface DrainQueueOptions extends Omit<WorkOptions, 'concurrency' | 'prefetch' | 'pollIntervalMs' | 'shutdownTimeoutMs'> {
  /** Stop after this many executions (a retried job counts once per attempt). Default 1,000. */
  max?: number;
}

/** How one execution ended. */
export interface DrainedJob {
  id: string;
  kind: string;
  queue: string;
  attempt: number;
  /**
   * `retried`: failed and back in the queue (runs again in this drain if already due);
   * `snoozed` and `cancelled`: the handler threw `SnoozeJob` / `CancelJob`.
   */
  outcome: 'completed' | 'retried' | 'discarded' | 'snoozed' | 'cancelled' | 'lease-lost';
  /** The failure, for `retried` and `discarded`. */
  error?: unknown;
}

/** What {@link drainQueue} ran, in the order the executions started. */
export interface DrainResult {
  ran: DrainedJob[];
  completed: number;
  /** Executions that failed (retried or discarded). */
  failed: number;
  /** True when the drain stopped at `max` with jobs possibly still due. */
  hitMax: boolean;
}

/**
 * Starts a real worker (one job at a time, for a deterministic order), lets it claim and run
 * jobs until a claim finds nothing due and every outcome is recorded, then stops it. Handler
 * timeouts and retry delays run on the client's clock. With a
 * `FakeClock` on the client, "due" means due at the fake time: advance it to drain scheduled
 * jobs and retries. Rejects if the database fails.
 *
 * @example
 * ```ts
 * await db.transaction((tx) => jobs.enqueue(tx, sendEmail({ orderId: '42' })));
 * const { ran } = await drainQueue(jobs, { queues: ['default'] });
 * expect(ran.map((j) => j.outcome)).toEqual(['completed']);
 * ```
 */
export async function drainQueue<Tx>(jobs: Jobs<Tx>, options: DrainQueueOptions = {}): Promise<DrainResult> {
  const { max = 1000, ...work } = options;
  if (!Number.isInteger(max) || max < 1) throw new InvalidOptionError('drainQueue: `max` must be a positive integer.');
  // One slot and nothing claimed ahead: a claim never takes more than we may run, so `max` is
  // exact and jobs left over stay `available` with their attempt untouched. The poll interval is
  // long because this function wakes the worker itself; no test ever waits on a timer.
  // Retention is off unless asked for: a drain should not delete the rows a test inspects.
  const worker = jobs.createWorker({ logger: silentLogger, retention: false, ...work, concurrency: 1, prefetch: 0, pollIntervalMs: 3_600_000, shutdownTimeoutMs: 3_600_000 });
  // Entries are created when an execution starts and completed when its outcome arrives:
  // completions are written in batches, so outcomes may arrive out of start order.
  const ran: Partial<DrainedJob>[] = [];
  const open = new Map<string, Partial<DrainedJob>>();
  let executions = 0;
  let hitMax = false;

  return new Promise<DrainResult>((resolve, reject) => {
    let finishing = false;
    const finish = (): void => {
      if (finishing) return;
      finishing = true;
      // stop() waits for the running handler and flushes its outcome, so `ran` is complete after it.
      void worker.stop().then(() => {
        offs.forEach((off) => off());
        const done = ran.filter((j): j is DrainedJob => j.outcome !== undefined);
        resolve({
          ran: done,
          completed: done.filter((j) => j.outcome === 'completed').length,
          failed: done.filter((j) => j.outcome === 'retried' || j.outcome === 'discarded').length,
          hitMax,
        });
      }, reject);
    };
    const count = (): void => {
      if (++executions >= max) {
        hitMax = true;
        finish();
      }
    };
    const ended = (job: JobInfo, outcome: DrainedJob['outcome'], error?: unknown): void => {
      let entry = open.get(job.id);
      open.delete(job.id);
      if (!entry) {
        // Unknown kinds and invalid args are discarded without a start: count them here.
        entry = { id: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt };
        ran.push(entry);
        if (outcome === 'discarded') count();
      }
      entry.outcome = outcome;
      if (error !== undefined) entry.error = error;
      // The claim that followed this job may already have come back empty while its outcome
      // was still being written: ask for one more, whose idle event then decides.
      worker.wake();
    };
    const offs = [
      worker.on('job:started', ({ job }) => {
        const entry: Partial<DrainedJob> = { id: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt };
        open.set(job.id, entry);
        ran.push(entry);
        count();
      }),
      worker.on('job:completed', ({ job }) => ended(job, 'completed')),
      worker.on('job:retried', ({ job, error }) => ended(job, 'retried', error)),
      worker.on('job:discarded', ({ job, error }) => ended(job, 'discarded', error)),
      worker.on('job:snoozed', ({ job }) => ended(job, 'snoozed')),
      worker.on('job:cancelled', ({ job }) => ended(job, 'cancelled')),
      worker.on('job:lease-lost', ({ job }) => ended(job, 'lease-lost')),
      worker.on('idle', ({ running }) => {
        if (running === 0 && open.size === 0) finish();
      }),
      worker.on('db-error', ({ error }) => {
        // Reject at once: the worker's own retry backoff runs on the client's clock, which a
        // FakeClock would never advance, so waiting for stop() here could wait forever.
        if (finishing) return;
        finishing = true;
        offs.forEach((off) => off());
        void worker.stop();
        reject(error instanceof Error ? error : new Error(String(error)));
      }),
    ];
    worker.start().catch((error: unknown) => {
      offs.forEach((off) => off());
      reject(error);
    });
  });
}
