/**
 * What the worker's roles (producer, job runner, completer, maintenance, notifier) share: the
 * storage they write through, the clock and timers, the logger and the event sink. The
 * {@link Worker} builds one and hands it to each role, so no role reaches into another.
 *
 * @module
 */
import type { Clock } from '../clock.ts';
import type { Jobs } from '../client.ts';
import type { Backend, DispatcherAccess } from '../backend/backend.ts';
import type { ClaimedJob } from '../job.ts';
import type { SafeLogger } from '../logger.ts';
import type { WorkSettings } from './work-options.ts';
import type { JobInfo, WorkerEvents } from './worker-events.ts';
import type { WorkerTimers } from './worker-timers.ts';

export interface WorkerContext {
  readonly jobs: Jobs<unknown>;
  readonly backend: Backend;
  readonly db: DispatcherAccess<unknown>;
  readonly clock: Clock;
  readonly timers: WorkerTimers;
  readonly logger: SafeLogger;
  readonly settings: WorkSettings;
  emit<K extends keyof WorkerEvents>(event: K, payload: WorkerEvents[K]): void;
  /** Whether anyone listens for `event` (to skip work nobody would see). */
  listens(event: keyof WorkerEvents): boolean;
  /** Reports a failed database call: a `db-error` event and one log line. Never throws. */
  report(operation: string, error: unknown): void;
  /** True while the worker is `running` (not stopping or stopped). */
  running(): boolean;
}

/** One execution of a claimed job, from its start in a slot to its recorded outcome. */
export interface InFlight {
  job: ClaimedJob;
  info: JobInfo;
  controller: AbortController;
  /** The outcome is known (recorded, queued or released): later outcomes are ignored. */
  decided: boolean;
  released: boolean;
  /** A transactional handler committed its completion itself. */
  completedInTx?: boolean;
}
