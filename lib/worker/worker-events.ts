/**
 * What a worker tells its listeners: the events, by name, and the job summary they carry.
 *
 * @module
 */
import type { ClaimedJob } from '../job.ts';

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
  /**
   * The job's outcome was not recorded: its lease had expired and it was rescued or re-claimed
   * (or the job was cancelled). `during: 'heartbeat'` also covers a job claimed ahead that lost
   * its lease before it started; it is then never started here.
   */
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

/** The summary of a claimed job that events carry. */
export function jobInfo(job: ClaimedJob): JobInfo {
  return { id: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt, maxAttempts: job.maxAttempts };
}
