/**
 * Typed job definitions. A definition names a kind, holds its handler and defaults, and is
 * callable: `sendEmail({ orderId })` builds a request whose args type is checked at compile time.
 *
 * @module
 */
import type { Logger } from './logger.ts';
import { InvalidOptionError } from './errors.ts';
import { assertInt, assertName, type JsonObject } from './validation.ts';

/**
 * A JSON scalar.
 *
 * @inline
 */
type JsonPrimitive = string | number | boolean | null;

/**
 * Maps a type to the part of it that survives JSON unchanged; anything else becomes `never`.
 * {@link defineJob} checks `Args` against it, so interfaces work (no index signature needed)
 * while `Date`, `bigint`, functions, `Map` and `Set` are compile-time errors.
 */
export type JsonCompatible<T> = T extends JsonPrimitive
  ? T
  : T extends Date | bigint | symbol | ((...args: never[]) => unknown) | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
    ? never
    : T extends readonly (infer U)[]
      ? readonly JsonCompatible<U>[]
      : T extends object
        ? { [K in keyof T]: JsonCompatible<T[K]> }
        : never;

/**
 * Resolves to `unknown` (no constraint) when `Args` is JSON-compatible, and otherwise to an
 * object with a required, impossible property whose name explains the compile error.
 */
export type JsonArgsCheck<Args> = [Args] extends [JsonCompatible<Args>]
  ? unknown
  : { 'job args must be JSON-compatible: no Date, bigint, functions, Map or Set (pass dates as ISO strings)': never };

/** What a handler knows about the execution it serves. */
export interface JobContext {
  /** The job's id (a decimal string; ids may exceed 2^53). */
  readonly id: string;
  readonly kind: string;
  readonly queue: string;
  /** This execution's attempt, starting at 1. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly createdAt: Date;
  readonly runAt: Date;
  /** The metadata given at enqueue, or null. */
  readonly metadata: JsonObject | null;
  /**
   * Aborted when the job times out, when the worker shuts down past its grace period, or when
   * the worker lost the job's lease. Pass it to fetch(), database calls and timers.
   */
  readonly signal: AbortSignal;
  /** The worker's logger. */
  readonly logger: Logger;
  /**
   * For kinds defined with `transactional: true`: your ORM's transaction handle, the same type
   * your adapter's `enqueue` takes. The job is marked completed inside this transaction, so the
   * handler's writes through it and the completion commit together, exactly once. Undefined
   * for other kinds. Annotate the handler with {@link TransactionalJobContext} to type it.
   */
  readonly tx?: unknown;
}

/**
 * The context of a `transactional: true` job, with `tx` typed as your ORM's transaction handle.
 *
 * @example
 * ```ts
 * const recordPayment = defineJob('record_payment', {
 *   transactional: true,
 *   handler: async (args: { orderId: number }, ctx: TransactionalJobContext<Knex.Transaction>) => {
 *     await ctx.tx('payments').insert({ order_id: args.orderId });
 *   },
 * });
 * ```
 */
export type TransactionalJobContext<Tx> = JobContext & { readonly tx: Tx };

/** A handler: resolve to complete the job, throw (or reject) to fail this attempt. */
export type JobHandler<Args> = (args: Args, ctx: JobContext) => unknown;

/** Defaults a definition applies to every job of its kind; enqueue options override them. */
export interface JobDefaults {
  /** Queue name. Default: the client's `defaultQueue` (`default`). */
  queue?: string;
  /** Lower runs first. Integer from -1000 to 1000; default 0. */
  priority?: number;
  /** Attempts before the job is discarded, 1 to 1000. Default: the client's `maxAttempts` (20). */
  maxAttempts?: number;
  /** Per-attempt time limit in ms; the handler's signal aborts when it passes. Default: none. */
  timeoutMs?: number;
  /**
   * Run the handler inside a transaction of your ORM (`ctx.tx`) that also marks the job
   * completed: its database writes happen exactly once. A failure, a timeout or a lost lease
   * rolls them back. Needs an adapter with `userTransaction` (all bundled SQL adapters but
   * better-sqlite3). Default false.
   */
  transactional?: boolean;
}

/** Per-job options at enqueue time. */
export interface EnqueueOptions {
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  /** Run no earlier than this time. Mutually exclusive with `delayMs`. */
  runAt?: Date;
  /** Run no earlier than this many ms after the database's now. */
  delayMs?: number;
  /** Free-form JSON stored with the job (trace context, tenant, …). At most 16 KiB. */
  metadata?: JsonObject;
}

/** The configuration of {@link defineJob}. */
export interface JobConfig<Args> extends JobDefaults {
  /**
   * The handler. Declared as a method so that a handler may annotate its context more narrowly,
   * e.g. as {@link TransactionalJobContext}.
   */
  handler(args: Args, ctx: JobContext): unknown;
  /**
   * Optional check or conversion of the stored args before the handler sees them (for
   * example a zod schema's `parse`). If it throws, the job is discarded with reason
   * `invalid_args`, since retrying cannot fix stored data.
   */
  parse?: (stored: unknown) => Args;
}

/** A request to enqueue one job, built by calling a {@link JobDefinition}. */
export interface JobRequest<Args = unknown> {
  readonly kind: string;
  readonly args: Args;
  readonly options: EnqueueOptions;
  readonly definition: JobDefinition<Args>;
}

/** A typed job kind: call it with args to build a {@link JobRequest}. */
export interface JobDefinition<Args = unknown> {
  (args: Args, options?: EnqueueOptions): JobRequest<Args>;
  readonly kind: string;
  readonly defaults: Readonly<JobDefaults>;
  readonly handler: JobHandler<Args>;
  readonly parse: ((stored: unknown) => Args) | undefined;
}

/** Any request, whatever its args type (for batches of mixed kinds). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobRequest = JobRequest<any>;

/** Any definition, whatever its args type (for registries). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any>;

/**
 * Defines a job kind.
 *
 * @example
 * ```ts
 * export const sendEmail = defineJob('send_email', {
 *   maxAttempts: 5,
 *   handler: async (args: { orderId: string }, ctx) => {
 *     await mailer.send(args.orderId, { signal: ctx.signal });
 *   },
 * });
 * await jobs.enqueue(tx, sendEmail({ orderId: '42' }));
 * ```
 */
export function defineJob<Args = JsonObject>(kind: string, config: JobConfig<Args> & NoInfer<JsonArgsCheck<Args>>): JobDefinition<Args> {
  assertName('kind', kind);
  if (typeof config?.handler !== 'function') throw new InvalidOptionError(`defineJob("${kind}"): handler must be a function.`);
  if (config.parse !== undefined && typeof config.parse !== 'function') throw new InvalidOptionError(`defineJob("${kind}"): parse must be a function.`);
  const defaults: JobDefaults = {};
  if (config.queue !== undefined) defaults.queue = assertName('queue', config.queue);
  if (config.priority !== undefined) defaults.priority = assertInt('priority', config.priority, -1000, 1000);
  if (config.maxAttempts !== undefined) defaults.maxAttempts = assertInt('maxAttempts', config.maxAttempts, 1, 1000);
  if (config.timeoutMs !== undefined) defaults.timeoutMs = assertInt('timeoutMs', config.timeoutMs, 1, 2 ** 31 - 1);
  if (config.transactional !== undefined) defaults.transactional = config.transactional === true;
  Object.freeze(defaults);
  const definition = ((args: Args, options: EnqueueOptions = {}): JobRequest<Args> => ({
    kind,
    args,
    options,
    definition,
  })) as JobDefinition<Args>;
  Object.defineProperties(definition, {
    kind: { value: kind, enumerable: true },
    defaults: { value: defaults, enumerable: true },
    handler: { value: config.handler, enumerable: true },
    parse: { value: config.parse, enumerable: true },
  });
  return definition;
}
