/**
 * Assertions on enqueued jobs that work with every adapter and every test runner.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { JobState } from '../job.ts';
import type { JobDefinition } from '../job-definition.ts';
import { describeJobs, JobAssertionError } from './job-assertion-error.ts';
import { listEnqueued, type EnqueuedJob } from './list-enqueued.ts';
import { partialMatch, type DeepPartial } from './partial-match.ts';

/** What an enqueued job must look like; every given field must match. */
export interface EnqueuedExpectation<Args, Tx> {
  /** A deep partial of the args: listed keys must match, others are ignored. */
  args?: DeepPartial<Args>;
  /** A deep partial of the metadata (e.g. `{ traceparent: … }`). */
  metadata?: Record<string, unknown>;
  queue?: string;
  priority?: number;
  /** The exact run time (to the millisecond), or a predicate on it. */
  runAt?: Date | ((runAt: Date) => boolean);
  /** Only jobs in this state. Default: any state. */
  state?: JobState;
  /** Read through this open transaction, before it commits; see {@link listEnqueued}. */
  tx?: Tx;
  /** Exactly this many matching jobs. Default: at least one. */
  count?: number;
}

/** A definition (typed args) or a kind name. */
export type DefinitionOrKind<Args> = JobDefinition<Args> | string;

function kindOf(def: DefinitionOrKind<unknown>): string {
  return typeof def === 'string' ? def : def.kind;
}

function matches(job: EnqueuedJob, e: EnqueuedExpectation<unknown, unknown>): boolean {
  if (e.queue !== undefined && job.queue !== e.queue) return false;
  if (e.priority !== undefined && job.priority !== e.priority) return false;
  if (e.state !== undefined && job.state !== e.state) return false;
  if (e.runAt instanceof Date && job.runAt.getTime() !== e.runAt.getTime()) return false;
  if (typeof e.runAt === 'function' && !e.runAt(job.runAt)) return false;
  if (e.args !== undefined && !partialMatch(job.args, e.args)) return false;
  if (e.metadata !== undefined && !partialMatch(job.metadata, e.metadata)) return false;
  return true;
}

function describeExpectation(kind: string, e: EnqueuedExpectation<unknown, unknown>): string {
  const parts = [`kind=${kind}`];
  if (e.queue !== undefined) parts.push(`queue=${e.queue}`);
  if (e.priority !== undefined) parts.push(`priority=${e.priority}`);
  if (e.state !== undefined) parts.push(`state=${e.state}`);
  if (e.runAt instanceof Date) parts.push(`runAt=${e.runAt.toISOString()}`);
  if (typeof e.runAt === 'function') parts.push('runAt=<predicate>');
  if (e.args !== undefined) parts.push(`args⊇${JSON.stringify(e.args)}`);
  if (e.metadata !== undefined) parts.push(`metadata⊇${JSON.stringify(e.metadata)}`);
  return parts.join(' ');
}

/**
 * Asserts that at least one job (or exactly `count`) of this kind matches; throws a
 * {@link JobAssertionError} listing the jobs of the kind that were found otherwise.
 *
 * @returns the matching jobs
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await checkout(tx, cart);
 *   await assertEnqueued(jobs, sendEmail, { tx, args: { orderId: cart.id }, queue: 'emails' });
 * });
 * ```
 */
export async function assertEnqueued<Args, Tx>(
  jobs: Jobs<Tx>,
  definitionOrKind: DefinitionOrKind<Args>,
  expected: EnqueuedExpectation<Args, Tx> = {},
): Promise<EnqueuedJob[]> {
  const kind = kindOf(definitionOrKind as DefinitionOrKind<unknown>);
  const found = await listEnqueued(jobs, { kind, ...(expected.tx !== undefined && { tx: expected.tx }), limit: 100_000 });
  const e = expected as EnqueuedExpectation<unknown, unknown>;
  const hits = found.filter((j) => matches(j, e));
  const ok = expected.count === undefined ? hits.length > 0 : hits.length === expected.count;
  if (!ok) {
    const want = expected.count === undefined ? 'a job' : `${expected.count} job(s)`;
    throw new JobAssertionError(
      `Expected ${want} matching ${describeExpectation(kind, e)}, found ${hits.length} matching. Jobs of kind "${kind}" (${found.length}):\n${describeJobs(found)}`,
      { kind, ...expected, tx: undefined },
      found,
    );
  }
  return hits;
}

/**
 * Asserts that no job of this kind matches (with no criteria: no job of the kind at all).
 *
 * @example
 * ```ts
 * await assertNotEnqueued(jobs, sendEmail, { args: { orderId: 'cancelled-order' } });
 * ```
 */
export async function assertNotEnqueued<Args, Tx>(
  jobs: Jobs<Tx>,
  definitionOrKind: DefinitionOrKind<Args>,
  expected: Omit<EnqueuedExpectation<Args, Tx>, 'count'> = {},
): Promise<void> {
  const kind = kindOf(definitionOrKind as DefinitionOrKind<unknown>);
  const found = await listEnqueued(jobs, { kind, ...(expected.tx !== undefined && { tx: expected.tx }), limit: 100_000 });
  const hits = found.filter((j) => matches(j, expected as EnqueuedExpectation<unknown, unknown>));
  if (hits.length > 0) {
    throw new JobAssertionError(
      `Expected no job matching ${describeExpectation(kind, expected as EnqueuedExpectation<unknown, unknown>)}, found ${hits.length}:\n${describeJobs(hits)}`,
      { kind, ...expected, tx: undefined },
      found,
    );
  }
}
