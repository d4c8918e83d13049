/**
 * `concordia/testing`: assertions on enqueued jobs and in-process job runs for application
 * tests. Plain functions and a plain `Error` subclass: they work with any test runner and
 * every adapter.
 *
 * @example
 * ```ts
 * import { assertEnqueued, drainQueue } from 'concordia/testing';
 * await knex.transaction(async (trx) => {
 *   await checkout(trx, cart);
 *   await assertEnqueued(jobs, sendEmail, { tx: trx, args: { orderId: cart.id } });
 * });
 * const { completed } = await drainQueue(jobs);
 * ```
 *
 * @module concordia/testing
 */
export { listEnqueued, type ListEnqueuedOptions, type EnqueuedJob } from './list-enqueued.ts';
export { assertEnqueued, assertNotEnqueued, type EnqueuedExpectation, type DefinitionOrKind } from './assert-enqueued.ts';
export { JobAssertionError } from './job-assertion-error.ts';
export { partialMatch, type DeepPartial } from './partial-match.ts';
export { runJob, type RunJobOptions, type RunJobResult } from './run-job.ts';
export { drainQueue, type DrainQueueOptions, type DrainedJob, type DrainResult } from './drain-queue.ts';
export { FakeClock } from '../clock.ts';
