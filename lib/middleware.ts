/**
 * Middleware around each job execution, outermost first: tracing, logging, metrics, tenancy.
 *
 * @module
 */
import type { JobContext } from './job-definition.ts';

/** The execution a middleware wraps: the handler's context plus the decoded args. */
export interface JobExecution extends JobContext {
  readonly args: unknown;
}

/**
 * Wraps one execution. Call `next()` exactly once to run the rest of the chain and the
 * handler; throw (or let `next()`'s rejection through) to fail the attempt.
 *
 * @example
 * ```ts
 * const timing: JobMiddleware = async (job, next) => {
 *   const t = performance.now();
 *   try { await next(); } finally { metrics.observe(job.kind, performance.now() - t); }
 * };
 * ```
 */
export type JobMiddleware = (job: JobExecution, next: () => Promise<void>) => Promise<void>;

/** Composes middleware around a final step; calling `next()` twice is an error. */
export function composeMiddleware(chain: readonly JobMiddleware[], job: JobExecution, last: () => Promise<void>): Promise<void> {
  const run = (i: number): Promise<void> => {
    const mw = chain[i];
    if (!mw) return last();
    let called = false;
    return mw(job, () => {
      if (called) return Promise.reject(new Error(`middleware #${i} called next() more than once`));
      called = true;
      return run(i + 1);
    });
  };
  return run(0);
}
