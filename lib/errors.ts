/**
 * Typed errors thrown by Concordia. Every error extends {@link ConcordiaError} and carries a
 * stable `code`, so callers can branch on `err.code` or `instanceof` without parsing messages.
 *
 * @module
 */

/** Base class of every error Concordia throws on purpose. */
export class ConcordiaError extends Error {
  /** A stable, machine-readable code such as `NOT_IN_TRANSACTION`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The handle given to a transactional `enqueue` is not inside an open transaction (for example
 * the root `PrismaClient`, a plain `Knex` instance or a pool). Inserting through it would
 * autocommit the job on its own, which is exactly the dual write a transactional outbox prevents.
 */
export class NotInTransactionError extends ConcordiaError {
  constructor(message: string) {
    super('NOT_IN_TRANSACTION', message);
  }
}

/** A job kind was enqueued or claimed that no registered job definition handles. */
export class UnknownJobKindError extends ConcordiaError {
  readonly kind: string;
  constructor(kind: string, message?: string) {
    super('UNKNOWN_JOB_KIND', message ?? `No job definition is registered for kind "${kind}".`);
    this.kind = kind;
  }
}

/** Job args (or metadata) are not plain JSON, or are too large. `path` names the offending value. */
export class InvalidArgsError extends ConcordiaError {
  /** Where the bad value sits, e.g. `args.items[2].price`. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGS', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A kind, queue, table or worker name does not match the allowed pattern. */
export class InvalidIdentifierError extends ConcordiaError {
  constructor(message: string) {
    super('INVALID_IDENTIFIER', message);
  }
}

/** An option has a value out of range or of the wrong type. */
export class InvalidOptionError extends ConcordiaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_OPTION', message, options);
  }
}

/**
 * A job filter or selection given to the inspection and operator methods (the dashboard's job
 * list, counts and bulk actions) is malformed: an unknown state, a JSON path segment that is not
 * a plain key or an array index, a value of the wrong type, too many values. Checked before any
 * statement runs, so a refused filter never reaches the database.
 */
export class InvalidFilterError extends ConcordiaError {
  /** Which part of the filter is wrong, e.g. `args[0].path[2]` or `states[1]`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('INVALID_FILTER', `${field}: ${message}`);
    this.field = field;
  }
}

/** The jobs table is missing, or lacks columns the engine needs. The message says how to fix it. */
export class SchemaMismatchError extends ConcordiaError {
  /** Columns the engine needs that the table lacks (empty when the table itself is missing). */
  readonly missingColumns: readonly string[];
  constructor(message: string, missingColumns: readonly string[]) {
    super('SCHEMA_MISMATCH', message);
    this.missingColumns = missingColumns;
  }
}

/** The database server is too old (or of a kind) the engine cannot run on safely. */
export class UnsupportedDatabaseError extends ConcordiaError {
  constructor(message: string) {
    super('UNSUPPORTED_DATABASE', message);
  }
}

/** The adapter cannot tell which database a handle talks to. */
export class UnknownDialectError extends ConcordiaError {
  constructor(message: string) {
    super('UNKNOWN_DIALECT', message);
  }
}

/** An operation was attempted on a dispatcher or client in the wrong state. */
export class StateError extends ConcordiaError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** The abort reason of a handler whose attempt ran past its `timeoutMs`. */
export class JobTimeoutError extends ConcordiaError {
  constructor(timeoutMs: number) {
    super('JOB_TIMEOUT', `The job ran longer than its timeout of ${timeoutMs} ms.`);
  }
}

/** The abort reason of a handler whose lease the worker lost (it was rescued or re-claimed elsewhere). */
export class LeaseLostError extends ConcordiaError {
  constructor(jobId: string) {
    super('LEASE_LOST', `The worker lost the lease of job ${jobId}; its result will not be recorded.`);
  }
}

/** The abort reason of a handler still running when its worker's shutdown grace period ended. */
export class ShutdownError extends ConcordiaError {
  constructor() {
    super('SHUTDOWN', 'The worker is shutting down; the job was released to run again.');
  }
}

/**
 * Thrown by a handler to run the job again after `delayMs` without counting this attempt
 * (waiting for a rate limit, a resource not ready yet).
 *
 * @example
 * ```ts
 * if (await rateLimited()) throw new SnoozeJob(30_000);
 * ```
 */
export class SnoozeJob extends ConcordiaError {
  readonly delayMs: number;
  constructor(delayMs: number) {
    super('SNOOZE_JOB', `The handler snoozed the job for ${delayMs} ms.`);
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) throw new InvalidOptionError('SnoozeJob: delayMs must be a non-negative integer.');
    this.delayMs = delayMs;
  }
}

/** Thrown by a handler to cancel its job for good: no retry; the reason is recorded. */
export class CancelJob extends ConcordiaError {
  constructor(reason: string) {
    super('CANCEL_JOB', reason);
  }
}

/** Thrown by a handler to discard its job at once (a permanent failure): no retry; the reason is recorded. */
export class DiscardJob extends ConcordiaError {
  constructor(reason: string) {
    super('DISCARD_JOB', reason);
  }
}

/**
 * The store is set up so that jobs could be lost (evicted under memory pressure, or gone after a
 * restart), and the adapter was told to require durability (`durability: 'require'`).
 */
export class DurabilityError extends ConcordiaError {
  /** Each risk found, as a sentence (the same ones `durability: 'warn'` logs). */
  readonly risks: readonly string[];
  constructor(message: string, risks: readonly string[]) {
    super('NOT_DURABLE', message);
    this.risks = risks;
  }
}

/**
 * An enqueue would take the caller's transaction past what its store accepts in one transaction
 * (DynamoDB: 100 actions, 4 MB per `TransactWriteItems`). Checked before anything is added, so
 * the caller's transaction (their list of items) is left exactly as it was.
 */
export class TransactionTooLargeError extends ConcordiaError {
  /** The store's limit that would be passed, e.g. `100 actions`. */
  readonly limit: string;
  constructor(message: string, limit: string) {
    super('TRANSACTION_TOO_LARGE', message);
    this.limit = limit;
  }
}
