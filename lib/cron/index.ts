/**
 * Periodic (cron) jobs: definitions, schedules and the worker's scheduler.
 *
 * @module
 */
export { periodic, type PeriodicJob, type PeriodicOptions } from './periodic-job.ts';
export { parseSchedule, type Schedule, type ScheduleSpec } from './schedule.ts';
export { PeriodicScheduler, slotKey, type PeriodicEnqueuer } from './periodic-scheduler.ts';
export { InvalidScheduleError } from './invalid-schedule-error.ts';
