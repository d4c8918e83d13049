/**
 * The error of a periodic job whose schedule cannot be used.
 *
 * @module
 */
import { ConcordiaError } from '../errors.ts';

/**
 * A periodic job's schedule is not a valid cron expression, names an unknown time zone, or has
 * an `everyMs` out of range. Thrown by {@link periodic} when the definition is built, so a typo
 * fails at start-up rather than never firing. `code` is `INVALID_SCHEDULE`.
 *
 * @example
 * ```ts
 * try { periodic('report', '61 * * * *', report({})); } catch (e) { if (e instanceof InvalidScheduleError) … }
 * ```
 */
export class InvalidScheduleError extends ConcordiaError {
  /** The schedule as given (the expression, or `everyMs=…`). */
  readonly schedule: string;
  constructor(schedule: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_SCHEDULE', message, options);
    this.schedule = schedule;
  }
}
