/**
 * Periodic job definitions: a name, a schedule and the job to enqueue at each slot.
 *
 * @module
 */
import type { EnqueueOptions, JobRequest } from '../job-definition.ts';
import { InvalidOptionError } from '../errors.ts';
import { assertInt, assertName } from '../validation.ts';
import { parseSchedule, type Schedule, type ScheduleSpec } from './schedule.ts';

/** Options of {@link periodic}. */
export interface PeriodicOptions extends EnqueueOptions {
  /**
   * After downtime only the most recent missed slot is enqueued, and only if it is at most this
   * old. Keep it no longer than the retention of completed jobs: a slot whose job was already
   * pruned would otherwise run again. Default 24 h (the default completed retention); 0 turns
   * catch-up off (a missed slot is skipped).
   */
  catchUpMs?: number;
}

/** A periodic job, built by {@link periodic}; hand it to `jobs.work({ periodic: [...] })`. */
export interface PeriodicJob {
  readonly name: string;
  readonly schedule: Schedule;
  readonly request: JobRequest;
  readonly options: Readonly<Omit<PeriodicOptions, 'catchUpMs'>>;
  readonly catchUpMs: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Defines a periodic job: at each slot of `schedule`, one `request` is enqueued, exactly once
 * however many workers run the same definition (each slot is a unique key,
 * `cron:<name>:<slot ISO time>`, covering every state).
 *
 * @param name stable and unique among your periodic jobs: it is part of every slot's key
 * @throws InvalidIdentifierError for a bad name, InvalidScheduleError for a bad schedule
 * @example
 * ```ts
 * const nightly = periodic('nightly-report', { cron: '0 3 * * *', timezone: 'Europe/Paris' }, report({ kind: 'daily' }));
 * const sweep = periodic('sweep', { everyMs: 60_000 }, sweepCarts({}), { queue: 'maintenance' });
 * const worker = await jobs.work({ periodic: [nightly, sweep] });
 * ```
 */
export function periodic<Args>(name: string, schedule: ScheduleSpec, request: JobRequest<Args>, options: PeriodicOptions = {}): PeriodicJob {
  assertName('periodic job name', name);
  if (!request || typeof (request as JobRequest).definition !== 'function') {
    throw new InvalidOptionError(`periodic "${name}": pass a job request built by a definition, e.g. report({}).`);
  }
  const { catchUpMs, ...enqueue } = options;
  return {
    name,
    schedule: parseSchedule(schedule),
    request: request as JobRequest,
    options: enqueue,
    catchUpMs: assertInt('catchUpMs', catchUpMs ?? DAY_MS, 0, 366 * DAY_MS),
  };
}
