/**
 * When a failed job runs again. The policy lives in TypeScript and hands the SQL a delay, so
 * every database computes the next run time the same way from its own clock.
 *
 * @module
 */

/** Decides how long to wait before the next attempt of a failed job. */
export interface RetryPolicy {
  /**
   * Milliseconds to wait before running the job again.
   * @param attempt the attempt that just failed, starting at 1
   * @param error what the handler threw
   */
  delayMs(attempt: number, error: unknown): number;
}

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** Delay after the first failure. Default 1,000 ms. */
  baseMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Upper bound of any delay. Default 1 hour. */
  maxMs?: number;
  /** Random spread as a fraction of the delay, e.g. 0.1 for ±10 %. Default 0.1. */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: `min(maxMs, baseMs × factor^(attempt−1))`, spread by
 * ±`jitter`. The jitter keeps a burst of jobs failing together from retrying together.
 *
 * @example
 * ```ts
 * jobs.work({ retryPolicy: exponentialBackoff({ baseMs: 5_000, maxMs: 600_000 }) });
 * ```
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): RetryPolicy {
  const { baseMs = 1000, factor = 2, maxMs = 3_600_000, jitter = 0.1, random = Math.random } = options;
  return {
    delayMs(attempt) {
      const raw = Math.min(maxMs, baseMs * Math.pow(factor, Math.max(0, attempt - 1)));
      const spread = raw * jitter * (random() * 2 - 1);
      return Math.max(0, Math.round(Math.min(maxMs, raw + spread)));
    },
  };
}

/** The default policy: {@link exponentialBackoff} with its defaults (1 s, ×2, ±10 %, at most 1 h). */
export const defaultRetryPolicy: RetryPolicy = exponentialBackoff();
