/**
 * Schedules of periodic jobs: a cron expression (optionally in a time zone) or a fixed interval.
 * Both answer the same two questions in epoch milliseconds: the latest slot at or before a time,
 * and the first slot after it.
 *
 * @module
 */
import { CronExpressionParser } from 'cron-parser';
import { assertInt } from '../validation.ts';
import { InvalidScheduleError } from './invalid-schedule-error.ts';

/**
 * When a periodic job fires:
 * - a cron expression such as `'0 3 * * *'` (5 fields, or 6 with seconds first), in UTC;
 * - `{ cron, timezone }` for the expression in an IANA time zone (`'Europe/Paris'`);
 * - `{ everyMs }` for a fixed interval, with slots aligned on the Unix epoch (every 60,000 ms
 *   fires on each whole UTC minute), so every process computes the same slots.
 */
export type ScheduleSpec = string | { cron: string; timezone?: string } | { everyMs: number };

/** A parsed schedule. */
export interface Schedule {
  /** A readable form for logs and errors. */
  readonly text: string;
  /** The latest slot at or before `ms`. */
  slotAtOrBefore(ms: number): number;
  /** The first slot strictly after `ms`. */
  slotAfter(ms: number): number;
}

const MAX_EVERY_MS = 366 * 24 * 3600 * 1000;

/**
 * Parses and validates a schedule; throws {@link InvalidScheduleError} when it cannot be used.
 *
 * @example
 * ```ts
 * parseSchedule({ cron: '*\/5 * * * *', timezone: 'Europe/Paris' }).slotAfter(Date.now());
 * ```
 */
export function parseSchedule(spec: ScheduleSpec): Schedule {
  if (spec !== null && typeof spec === 'object' && 'everyMs' in spec) {
    let every: number;
    try {
      every = assertInt('everyMs', spec.everyMs, 1, MAX_EVERY_MS);
    } catch (error) {
      throw new InvalidScheduleError(`everyMs=${String(spec.everyMs)}`, `Invalid schedule: everyMs must be an integer from 1 to ${MAX_EVERY_MS}.`, { cause: error });
    }
    return {
      text: `every ${every} ms`,
      slotAtOrBefore: (ms) => Math.floor(ms / every) * every,
      slotAfter: (ms) => Math.floor(ms / every) * every + every,
    };
  }
  const expression = typeof spec === 'string' ? spec : spec !== null && typeof spec === 'object' ? spec.cron : undefined;
  const timezone = typeof spec === 'object' && spec !== null && 'timezone' in spec ? spec.timezone : undefined;
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new InvalidScheduleError(String(expression), 'Invalid schedule: give a cron expression, { cron, timezone } or { everyMs }.');
  }
  const tz = timezone ?? 'UTC';
  const at = (ms: number) => CronExpressionParser.parse(expression, { currentDate: new Date(ms), tz });
  if (timezone !== undefined && (typeof timezone !== 'string' || !isTimeZone(timezone))) {
    throw new InvalidScheduleError(expression, `Invalid schedule "${expression}": unknown time zone ${JSON.stringify(timezone)}.`);
  }
  try {
    // Parse now and step once each way, so an impossible date (30 February) fails here rather
    // than in the scheduler's first tick.
    at(Date.now()).next();
    at(Date.now()).prev();
  } catch (error) {
    throw new InvalidScheduleError(expression, `Invalid cron expression "${expression}"${timezone ? ` in ${timezone}` : ''}: ${(error as Error).message}`, { cause: error });
  }
  return {
    text: timezone ? `${expression} (${timezone})` : expression,
    // prev() is strictly before its start, so start one millisecond later to include `ms` itself.
    slotAtOrBefore: (ms) => at(ms + 1).prev().getTime(),
    slotAfter: (ms) => at(ms).next().getTime(),
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
