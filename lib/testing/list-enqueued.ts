/**
 * Reading the jobs table from an application test, through the same adapter the app uses.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { ListedJob } from '../backend/backend.ts';
import type { JobState } from '../job.ts';
import type { AnyJobDefinition } from '../job-definition.ts';
import { InvalidOptionError } from '../errors.ts';
import { STATE_BITS } from '../job.ts';
import { assertInt, assertName } from '../validation.ts';

/** A job as the testing helpers report it: JSON columns decoded, times as dates. */
export type EnqueuedJob = ListedJob;

/** Filters of {@link listEnqueued}. */
export interface ListEnqueuedOptions<Tx> {
  /**
   * Read through this open transaction (your ORM's handle, as given to `enqueue`), so jobs
   * enqueued in it are visible before it commits. Without it the adapter's own connection
   * reads committed rows only. Not on Redis: a MULTI runs nothing before `exec()`, so its jobs
   * cannot be read inside it and passing one throws a `StateError`; list after `exec()`.
   */
  tx?: Tx;
  /** Only this kind: a definition or its kind name. */
  kind?: AnyJobDefinition | string;
  queue?: string;
  state?: JobState;
  /** At most this many jobs, oldest first. Default 1,000. */
  limit?: number;
}

/**
 * Lists jobs of the client's table, oldest first. Works with every adapter, inside an open
 * transaction (`tx`) or after commit.
 *
 * @example
 * ```ts
 * await knex.transaction(async (trx) => {
 *   await placeOrder(trx);
 *   const pending = await listEnqueued(jobs, { tx: trx, kind: sendEmail });
 *   expect(pending).toHaveLength(1);
 * });
 * ```
 */
export async function listEnqueued<Tx>(jobs: Jobs<Tx>, options: ListEnqueuedOptions<Tx> = {}): Promise<EnqueuedJob[]> {
  // bind() refuses a handle outside a transaction, exactly as enqueue() would.
  const ex = options.tx === undefined ? jobs.adapter.autocommit() : jobs.adapter.bind(options.tx);
  const kind = typeof options.kind === 'function' ? options.kind.kind : options.kind;
  // Checked here, not by the database: a bad filter inside the caller's transaction must not abort it.
  if (options.state !== undefined && !Object.hasOwn(STATE_BITS, options.state)) {
    throw new InvalidOptionError(`listEnqueued: unknown state ${JSON.stringify(String(options.state)).slice(0, 40)}.`);
  }
  return jobs.backend.listJobs(ex, {
    ...(kind !== undefined && { kind: assertName('kind', kind) }),
    ...(options.queue !== undefined && { queue: assertName('queue', options.queue) }),
    ...(options.state !== undefined && { state: options.state }),
    ...(options.limit !== undefined && { limit: assertInt('listEnqueued: limit', options.limit, 1, 100_000) }),
  });
}
