/**
 * Running one job request synchronously in a test, without a database.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import { UnknownJobKindError } from '../errors.ts';
import type { AnyJobRequest, JobContext } from '../job-definition.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { composeMiddleware, type JobMiddleware } from '../middleware.ts';
import { encodeJsonObject, type JsonObject } from '../validation.ts';

/** Options of {@link runJob}. */
export interface RunJobOptions {
  /** The middleware your worker uses (`work({ middleware })`), outermost first. */
  middleware?: readonly JobMiddleware[];
  /** The attempt the handler sees. Default 1. */
  attempt?: number;
  /** Metadata the handler sees (merged over the request's own). */
  metadata?: JsonObject;
  /** The job id the handler sees. Default `'0'`. */
  id?: string;
  /** Abort this to test a handler's cancellation path. */
  signal?: AbortSignal;
  /** The logger the handler sees. Default: silent. */
  logger?: Logger;
}

/** How {@link runJob} ended. */
export type RunJobResult = { status: 'completed'; error?: undefined } | { status: 'failed'; error: unknown };

/**
 * Runs one job request through its registered handler and your middleware, in-process: no
 * database, no retries, no timeout. The args go through the same JSON check as a real enqueue
 * (a `Date` is refused there, so it fails here too) and a JSON round trip, then through the
 * definition's `parse`. A kind not registered with `jobs` fails, as a worker would discard it.
 *
 * @example
 * ```ts
 * const result = await runJob(jobs, sendEmail({ orderId: '42' }), { middleware: [tenancy] });
 * expect(result.status).toBe('completed');
 * ```
 */
export async function runJob<Tx>(jobs: Jobs<Tx>, request: AnyJobRequest, options: RunJobOptions = {}): Promise<RunJobResult> {
  try {
    const definition = jobs.registry.get(request.kind);
    if (!definition) throw new UnknownJobKindError(request.kind, `runJob: kind "${request.kind}" is not registered with this client (createJobs({ jobs: [...] })).`);
    const stored: unknown = JSON.parse(encodeJsonObject('args', request.args, jobs.maxArgsBytes));
    const args: unknown = definition.parse ? definition.parse(stored) : stored;
    const meta = { ...request.options.metadata, ...options.metadata };
    const now = jobs.clock.now();
    const defaults = definition.defaults;
    const ctx: JobContext = {
      id: options.id ?? '0',
      kind: request.kind,
      queue: request.options.queue ?? defaults.queue ?? jobs.defaultQueue,
      attempt: options.attempt ?? 1,
      maxAttempts: request.options.maxAttempts ?? defaults.maxAttempts ?? jobs.maxAttempts,
      priority: request.options.priority ?? defaults.priority ?? 0,
      createdAt: now,
      runAt: request.options.runAt ?? now,
      metadata: Object.keys(meta).length === 0 ? null : (JSON.parse(JSON.stringify(meta)) as JsonObject),
      signal: options.signal ?? new AbortController().signal,
      logger: options.logger ?? silentLogger,
    };
    // The same composition the worker uses, so middleware behaves exactly as in production.
    await composeMiddleware(options.middleware ?? [], { ...ctx, args }, async () => {
      await definition.handler(args, ctx);
    });
    return { status: 'completed' };
  } catch (error) {
    return { status: 'failed', error };
  }
}
