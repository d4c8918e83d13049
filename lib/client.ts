/**
 * The client: enqueue inside the caller's transaction, cancel, and start workers.
 *
 * @module
 */
import { systemClock, type Clock } from './clock.ts';
import type { Backend, DispatcherAccess } from './backend/backend.ts';
import { InvalidArgsError, InvalidOptionError, StateError, UnknownJobKindError } from './errors.ts';
import type { InsertRow, UniqueInsertRow } from './job.ts';
import { MAX_JOB_ID } from './job-id.ts';
import type { AnyJobDefinition, AnyJobRequest, EnqueueOptions, JobRequest } from './job-definition.ts';
import type { Adapter } from './backend/adapter.ts';
import { batchCost, DEFAULT_BATCH_BYTES, MAX_ROWS_PER_INSERT, SMALL_BATCH_BYTES, splitRows } from './insert-batches.ts';
import { uniqueKeyOf, uniqueStatesMask, type UniqueEnqueueOptions, type UniqueEnqueueResult } from './unique.ts';
import { assertInt, assertName, assertRunAt, assertTableName, encodeJsonObject, inJob, isPlainObject, type JsonObject } from './validation.ts';
import { Worker, type WorkOptions } from './worker/worker.ts';

/** Options of {@link createJobs}. */
export interface CreateJobsOptions<Tx> {
  /** The ORM or driver adapter, e.g. `knexAdapter(knex)`. */
  adapter: Adapter<Tx>;
  /** The job kinds this process knows; workers run only these. */
  jobs?: readonly AnyJobDefinition[];
  /** The jobs table. Default `concordia_jobs`. */
  table?: string;
  /** Queue of jobs that name none. Default `default`. */
  defaultQueue?: string;
  /** Attempts of jobs whose definition and enqueue name none. Default 20. */
  maxAttempts?: number;
  /** Upper bound of one job's serialised args, in bytes. Default 256 KiB. */
  maxArgsBytes?: number;
  /** Time source; inject a `FakeClock` in tests. Default: the system clock (database time in SQL). */
  clock?: Clock;
  /**
   * PostgreSQL: send a NOTIFY with every enqueue (in the same statement, delivered at commit) so
   * idle workers start new jobs within milliseconds instead of at their next poll. Default true.
   * A notifying commit takes a short global lock in PostgreSQL; at thousands of single-job
   * transactions per second, turn this off and rely on polling.
   */
  notify?: boolean;
  /** Observers of every enqueue (tracing, metrics, auditing); see {@link EnqueueHook}. */
  onEnqueue?: readonly EnqueueHook[];
  /**
   * Refuse to enqueue a kind that is not among `jobs`: the call throws `UnknownJobKindError`
   * before anything is sent, so the caller's transaction is untouched. Default false, because
   * a process that only enqueues (a web server whose workers run elsewhere) may not register
   * every handler. A worker discards jobs of kinds it has no handler for (reason `unknown_kind`),
   * so turn this on where the enqueuing process knows every kind.
   */
  rejectUnknownKinds?: boolean;
}

/** A job about to be inserted, as an {@link EnqueueHook} sees it. */
export interface PendingJob {
  readonly kind: string;
  readonly queue: string;
  /** The args as given (already checked to be JSON). Never log them without redaction. */
  readonly args: unknown;
  /** The metadata to store; a hook may add keys (e.g. a trace context). */
  metadata: JsonObject | undefined;
}

/** How an enqueue ended: the new ids, or the error. */
export type EnqueueOutcome = { ids: string[]; error?: undefined } | { ids?: undefined; error: unknown };

/**
 * Called synchronously before every enqueue (transactional, autocommit or sync) with the jobs
 * about to be inserted; it may add metadata. It may return a function called once the insert
 * has succeeded or failed (to end a span, say). Hooks never see the caller's transaction commit:
 * a job counted here can still be rolled back with it.
 */
export type EnqueueHook = (jobs: readonly PendingJob[]) => ((outcome: EnqueueOutcome) => void) | void;

/** Rows ready to insert, and the callback that tells the enqueue hooks how it ended. */
interface PreparedInsert {
  rows: InsertRow[];
  done: (outcome: EnqueueOutcome) => void;
}

const MAX_METADATA_BYTES = 16 * 1024;
/** Wraps a multi-statement enqueue in the caller's transaction; a plain identifier the dialects quote as is. */
const ENQUEUE_SAVEPOINT = 'concordia_enqueue';

/**
 * The client of one jobs table through one adapter. `Tx` is the adapter's transaction handle
 * type, so `enqueue` accepts exactly what your ORM's transaction callback receives.
 */
export class Jobs<Tx> {
  readonly adapter: Adapter<Tx>;
  readonly table: string;
  readonly clock: Clock;
  readonly defaultQueue: string;
  readonly maxAttempts: number;
  readonly maxArgsBytes: number;
  /** @internal The backend the adapter built: every statement or command for the store. */
  readonly backend: Backend;
  readonly #registry: ReadonlyMap<string, AnyJobDefinition>;
  readonly #hooks: readonly EnqueueHook[];
  readonly #rejectUnknownKinds: boolean;
  /** Workers started by this client, woken after an autocommit enqueue in this process. */
  readonly #workers = new Set<Worker>();

  constructor(options: CreateJobsOptions<Tx>) {
    if (!options?.adapter) throw new InvalidOptionError('createJobs: `adapter` is required, e.g. knexAdapter(knex).');
    if (!Array.isArray(options.jobs ?? [])) throw new InvalidOptionError('createJobs: `jobs` must be an array of job definitions.');
    this.adapter = options.adapter;
    this.table = assertTableName(options.table ?? 'concordia_jobs');
    this.clock = options.clock ?? systemClock;
    this.defaultQueue = assertName('queue', options.defaultQueue ?? 'default');
    this.maxAttempts = assertInt('maxAttempts', options.maxAttempts ?? 20, 1, 1000);
    this.maxArgsBytes = assertInt('maxArgsBytes', options.maxArgsBytes ?? 256 * 1024, 2, 64 * 1024 * 1024);
    this.backend = this.adapter.backend(options.notify === undefined ? { table: this.table } : { table: this.table, notify: options.notify }) as Backend;
    // A null-prototype map: a stored kind such as "__proto__" or "constructor" never resolves
    // to anything but a registered definition.
    const registry = new Map<string, AnyJobDefinition>();
    for (const def of options.jobs ?? []) {
      if (typeof def !== 'function' || typeof def.kind !== 'string') {
        throw new InvalidOptionError('createJobs: every entry of `jobs` must come from defineJob().');
      }
      if (registry.has(def.kind)) throw new InvalidOptionError(`createJobs: job kind "${def.kind}" is registered twice.`);
      registry.set(def.kind, def);
    }
    this.#registry = registry;
    const hooks = options.onEnqueue ?? [];
    if (!Array.isArray(hooks) || hooks.some((hook) => typeof hook !== 'function')) {
      throw new InvalidOptionError('createJobs: `onEnqueue` must be an array of functions.');
    }
    this.#hooks = [...hooks];
    this.#rejectUnknownKinds = options.rejectUnknownKinds === true;
  }

  /** The registered definitions by kind. */
  get registry(): ReadonlyMap<string, AnyJobDefinition> {
    return this.#registry;
  }

  /**
   * Resolves options and defaults, validates every job (before any statement runs), runs the
   * enqueue hooks, encodes. Errors name the job by index when there are several.
   */
  #prepare(requests: readonly AnyJobRequest[], extra: EnqueueOptions | undefined): PreparedInsert {
    if (!Array.isArray(requests)) throw new InvalidOptionError('enqueueMany: pass an array of job requests.');
    const resolved = requests.map((request, index) => inJob(requests.length, index, () => this.#resolve(request, extra)));
    const ends = this.#hooks.map((hook) => hook(resolved.map((r) => r.pending))).filter((end) => typeof end === 'function');
    const done = (outcome: EnqueueOutcome): void => {
      for (const end of ends) {
        try {
          end(outcome);
        } catch {
          // An observer must not turn a committed insert into an error.
        }
      }
    };
    try {
      const rows = resolved.map(({ row, pending }, index) =>
        inJob(requests.length, index, () => ({
          ...row,
          // Encoded after the hooks, which may add keys; checked as strictly as the caller's.
          metadataJson: pending.metadata === undefined ? null : encodeJsonObject('metadata', pending.metadata, MAX_METADATA_BYTES),
        })),
      );
      return { rows, done };
    } catch (error) {
      done({ error });
      throw error;
    }
  }

  /** One job's options, defaults and checks, without its metadata (encoded after the hooks). */
  #resolve(request: AnyJobRequest, extra: EnqueueOptions | undefined): { row: Omit<InsertRow, 'metadataJson'>; pending: PendingJob } {
    if (!request || typeof request.definition !== 'function') {
      throw new InvalidOptionError('enqueue: pass a job request built by a definition, e.g. sendEmail({ orderId }).');
    }
    if (this.#rejectUnknownKinds && !this.#registry.has(request.kind)) {
      throw new UnknownJobKindError(
        request.kind,
        `enqueue: job kind "${String(request.kind)}" is not among this client's \`jobs\` (rejectUnknownKinds is on); register its definition in createJobs({ jobs }).`,
      );
    }
    const defaults = request.definition.defaults;
    const o: EnqueueOptions = { ...request.options, ...extra };
    if (o.runAt !== undefined && o.delayMs !== undefined) {
      throw new InvalidOptionError('enqueue: give either `runAt` or `delayMs`, not both.');
    }
    if (o.runAt !== undefined) assertRunAt(o.runAt);
    if (o.metadata !== undefined && !isPlainObject(o.metadata)) {
      // Checked before the copy below, which would turn a string or a Map into a different object.
      const got = Array.isArray(o.metadata) ? 'array' : o.metadata === null ? 'null' : typeof o.metadata;
      throw new InvalidArgsError('metadata', `must be a plain JSON object, got ${got}.`);
    }
    const pending: PendingJob = {
      kind: assertName('kind', request.kind),
      queue: assertName('queue', o.queue ?? defaults.queue ?? this.defaultQueue),
      args: request.args,
      metadata: o.metadata === undefined ? undefined : { ...o.metadata },
    };
    const row = {
      kind: pending.kind,
      queue: pending.queue,
      argsJson: encodeJsonObject('args', request.args, this.maxArgsBytes),
      priority: assertInt('priority', o.priority ?? defaults.priority ?? 0, -1000, 1000),
      maxAttempts: assertInt('maxAttempts', o.maxAttempts ?? defaults.maxAttempts ?? this.maxAttempts, 1, 1000),
      // A copy: the caller's Date could change before the insert runs.
      runAt: o.runAt === undefined ? null : new Date(o.runAt.getTime()),
      delayMs: assertInt('delayMs', o.delayMs ?? 0, 0, 100 * 365 * 24 * 3600 * 1000),
    };
    return { row, pending };
  }

  /** Runs an insert between the hooks' start and end. */
  async #observed(prepared: PreparedInsert, insert: () => Promise<string[]>): Promise<string[]> {
    try {
      const ids = await insert();
      prepared.done({ ids });
      return ids;
    } catch (error) {
      prepared.done({ error });
      throw error;
    }
  }

  /**
   * The statements a batch needs: by row count, and by bytes where the server has a packet limit
   * (read from the server only for large batches). A job too large for any statement is refused
   * here, before anything is sent.
   */
  async #plan(ex: unknown, rows: readonly InsertRow[]): Promise<InsertRow[][]> {
    const budget = batchCost(rows) <= SMALL_BATCH_BYTES ? SMALL_BATCH_BYTES : await this.backend.maxBatchBytes(ex);
    return splitRows(rows, MAX_ROWS_PER_INSERT, budget);
  }

  async #insert(ex: unknown, chunks: readonly InsertRow[][]): Promise<string[]> {
    const ids: string[] = [];
    for (const chunk of chunks) ids.push(...(await this.backend.insert(ex, chunk, this.clock.sqlNow())));
    return ids;
  }

  /**
   * Inserts a job inside the caller's open transaction: it commits or rolls back with the
   * caller's own writes, and no worker can see it before the commit.
   *
   * @param tx your ORM's transaction handle (refused with `NotInTransactionError` if it is not one)
   * @returns the new job's id
   * @example
   * ```ts
   * await knex.transaction(async (trx) => {
   *   const [order] = await trx('orders').insert({ total: 42 }).returning('id');
   *   await jobs.enqueue(trx, sendEmail({ orderId: String(order.id) }));
   * });
   * ```
   */
  async enqueue<Args>(tx: Tx, request: JobRequest<Args>, options?: EnqueueOptions): Promise<string> {
    const prepared = this.#prepare([request as JobRequest], options);
    const ex = this.adapter.bind(tx);
    const [id] = await this.#observed(prepared, async () => this.#insert(ex, await this.#plan(ex, prepared.rows)));
    this.#wakeAfterCommit(tx, prepared.rows);
    return id!;
  }

  /**
   * Inserts many jobs inside the caller's transaction, one statement per 1,000 jobs (fewer when
   * they are large). `options` apply to all. Every job is checked before the first statement,
   * and several statements run inside a savepoint: a call that fails leaves none of its jobs
   * behind and the caller's transaction usable.
   */
  async enqueueMany(tx: Tx, requests: readonly AnyJobRequest[], options?: EnqueueOptions): Promise<string[]> {
    const prepared = this.#prepare(requests, options);
    if (prepared.rows.length === 0) return [];
    const ex = this.adapter.bind(tx);
    const ids = await this.#observed(prepared, async () => {
      const chunks = await this.#plan(ex, prepared.rows);
      return chunks.length === 1 ? this.#insert(ex, chunks) : this.backend.atomic(ex, ENQUEUE_SAVEPOINT, () => this.#insert(ex, chunks));
    });
    this.#wakeAfterCommit(tx, prepared.rows);
    return ids;
  }

  /**
   * {@link Jobs.enqueue} for synchronous drivers (better-sqlite3), whose transaction functions
   * cannot await: the insert runs before this returns, and failures throw inside your transaction.
   */
  enqueueSync<Args>(tx: Tx, request: JobRequest<Args>, options?: EnqueueOptions): string {
    return this.enqueueManySync(tx, [request as JobRequest], options)[0]!;
  }

  /** {@link Jobs.enqueueMany} for synchronous drivers. */
  enqueueManySync(tx: Tx, requests: readonly AnyJobRequest[], options?: EnqueueOptions): string[] {
    const { rows, done } = this.#prepare(requests, options);
    const ids: string[] = [];
    try {
      const { insertSync, atomicSync } = this.backend;
      if (!insertSync || !atomicSync) throw new StateError(`The ${this.backend.name} backend has no synchronous enqueue: use the async enqueue() instead of enqueueSync().`);
      const ex = this.adapter.bind(tx);
      // Synchronous drivers are SQLite's, which has no packet limit: the fixed budget applies.
      const chunks = splitRows(rows, MAX_ROWS_PER_INSERT, DEFAULT_BATCH_BYTES);
      const insertAll = () => {
        for (const chunk of chunks) ids.push(...insertSync.call(this.backend, ex, chunk, this.clock.sqlNow()));
      };
      if (chunks.length > 1) atomicSync.call(this.backend, ex, ENQUEUE_SAVEPOINT, insertAll);
      else insertAll();
    } catch (error) {
      done({ error });
      throw error;
    }
    done({ ids });
    return ids;
  }

  /**
   * Inserts a job on the adapter's own connection, committed on its own: **not** atomic with
   * anything else you write. Use it where there is no business transaction (a cron trigger,
   * a script); inside a transaction use {@link Jobs.enqueue}.
   */
  async enqueueAutocommit<Args>(request: JobRequest<Args>, options?: EnqueueOptions): Promise<string> {
    const [id] = await this.enqueueManyAutocommit([request as JobRequest], options);
    return id!;
  }

  /** Many jobs on the adapter's own connection, committed on their own. See {@link Jobs.enqueueAutocommit}. */
  async enqueueManyAutocommit(requests: readonly AnyJobRequest[], options?: EnqueueOptions): Promise<string[]> {
    const prepared = this.#prepare(requests, options);
    const { rows } = prepared;
    if (rows.length === 0) return [];
    const ids = await this.#observed(prepared, async () => {
      const autocommit = this.adapter.autocommit();
      const chunks = await this.#plan(autocommit, rows);
      return chunks.length === 1
        ? this.#insert(autocommit, chunks)
        : // Several chunks: one transaction, so a failure leaves none of them behind.
          this.adapter.transaction((ex) => this.#insert(ex, chunks));
    });
    this.wakeWorkers([...new Set(rows.map((r) => r.queue))]);
    return ids;
  }

  /**
   * Inserts a job inside the caller's transaction unless a job with the same unique key is in one
   * of the covered states (see {@link UniqueEnqueueOptions}). A transaction holding the same key
   * makes this call wait for its outcome, so after both commit there is exactly one job: if the
   * other rolls back, this one is inserted. It never raises a unique violation, so the caller's
   * transaction stays usable either way.
   *
   * @returns `{ inserted: true, id }`, or `{ inserted: false, id }` with the existing job's id
   * (null when the caller's snapshot cannot see it)
   * @example
   * ```ts
   * await knex.transaction(async (trx) => {
   *   const r = await jobs.enqueueUnique(trx, syncAccount({ accountId }), { unique: { periodMs: 60_000 } });
   *   if (!r.inserted) log.debug(`already queued as ${r.id}`);
   * });
   * ```
   */
  async enqueueUnique<Args>(tx: Tx, request: JobRequest<Args>, options: UniqueEnqueueOptions): Promise<UniqueEnqueueResult> {
    const ex = this.adapter.bind(tx);
    return this.#enqueueUnique(ex, (backend, row, now) => backend.insertUnique(ex, row, now), request as JobRequest, options);
  }

  /**
   * {@link Jobs.enqueueUnique} on the adapter's own connection, committed on its own (a cron
   * tick, a script). Wakes this process's idle workers when it inserted.
   *
   * @example
   * ```ts
   * await jobs.enqueueUniqueAutocommit(nightlyReport({}), { unique: { key: 'report:2030-01-01' } });
   * ```
   */
  async enqueueUniqueAutocommit<Args>(request: JobRequest<Args>, options: UniqueEnqueueOptions): Promise<UniqueEnqueueResult> {
    const result = await this.#enqueueUnique(
      this.adapter.autocommit(),
      (backend, row, now) => backend.insertUniqueAutocommit(this.dispatcherDb(), row, now),
      request as JobRequest,
      options,
    );
    if (result.inserted) this.wakeWorkers();
    return result;
  }

  async #enqueueUnique(
    ex: unknown,
    insert: (backend: Backend, row: UniqueInsertRow, now: Date | null) => Promise<UniqueEnqueueResult>,
    request: JobRequest,
    options: UniqueEnqueueOptions,
  ): Promise<UniqueEnqueueResult> {
    // inJob: options whose reading throws (a getter, a Proxy) become a typed error too.
    const { unique, rest, uniqueStates } = inJob(1, 0, () => {
      const { unique, ...rest } = options ?? ({} as UniqueEnqueueOptions);
      if (!unique || typeof unique !== 'object') {
        throw new InvalidOptionError('enqueueUnique: pass `unique` options, e.g. { unique: { periodMs: 60_000 } } or { unique: {} }.');
      }
      return { unique, rest, uniqueStates: uniqueStatesMask(unique.states) };
    });
    const prepared = this.#prepare([request], rest);
    const row = prepared.rows[0]!;
    try {
      const uniqueRow = { ...row, uniqueKey: inJob(1, 0, () => uniqueKeyOf(row, unique, this.clock.now().getTime())), uniqueStates };
      await this.#plan(ex, [row]); // refuses a job too large for one statement
      const result = await insert(this.backend, uniqueRow, this.clock.sqlNow());
      prepared.done({ ids: result.inserted ? [result.id] : [] });
      return result;
    } catch (error) {
      prepared.done({ error });
      throw error;
    }
  }

  /**
   * Cancels a job that has not finished: `available` (due, scheduled or waiting to retry) or
   * `running` → `cancelled`. A running job's worker (or one holding it claimed ahead) finds out at
   * its next heartbeat, aborts the handler's signal and drops its result.
   * @returns true if this call cancelled it; false if it does not exist or already finished
   */
  async cancel(id: string | number | bigint): Promise<boolean> {
    const text = String(id);
    // A number past 2^53 has already lost digits: it may name another job.
    if ((typeof id === 'number' && !Number.isSafeInteger(id)) || !this.backend.isJobId(text)) {
      const form = this.backend.capabilities.ids === 'store' ? `an integer from 0 to ${MAX_JOB_ID}` : `an id as enqueue returned it`;
      throw new InvalidOptionError(`cancel: job id must be ${form}, got ${JSON.stringify(text).slice(0, 40)}.`);
    }
    return this.backend.cancel(this.adapter.autocommit(), text, this.clock.sqlNow());
  }

  /**
   * Pauses a queue for every worker of this table, in every process: no new job of the queue is
   * claimed until {@link Jobs.resumeQueue}; running ones finish. Every claim that starts after
   * this call resolves leaves the queue out, in every process (the claim statement checks it).
   * A resume reaches this process's workers at once, others' within about their `pauseCheckMs`.
   * @returns false if the queue was already paused
   */
  async pauseQueue(queue: string): Promise<boolean> {
    const changed = await this.backend.setQueuePaused(this.adapter.autocommit(), assertName('queue', queue), true, this.clock.sqlNow());
    for (const worker of this.#workers) worker.pauseChanged();
    return changed;
  }

  /** Resumes a paused queue. @returns false if it was not paused */
  async resumeQueue(queue: string): Promise<boolean> {
    const changed = await this.backend.setQueuePaused(this.adapter.autocommit(), assertName('queue', queue), false, this.clock.sqlNow());
    for (const worker of this.#workers) worker.pauseChanged();
    return changed;
  }

  /** The queues paused now. */
  async pausedQueues(): Promise<string[]> {
    return this.backend.pausedQueues(this.adapter.autocommit());
  }

  /**
   * Checks the database version and that the jobs table has every column. Throws a typed error
   * if not. Resolves to warnings about the store's setup (empty on SQL; on Redis, persistence
   * settings that could lose jobs), the same ones a worker logs when it starts.
   */
  async verify(): Promise<string[]> {
    return [...((await this.backend.verify(this.adapter.autocommit())) ?? [])];
  }

  /** @internal The dispatcher's view of the database. */
  dispatcherDb(): DispatcherAccess<unknown> {
    return {
      autocommit: this.adapter.autocommit(),
      transaction: (fn, opts) => this.adapter.transaction(fn, opts),
    };
  }

  /**
   * Starts a dispatcher in this process: it checks the schema, then claims due jobs of its
   * queues and runs their handlers until {@link Worker.stop}.
   *
   * @example
   * ```ts
   * const worker = await jobs.work({ queues: ['default', 'emails'], concurrency: 20 });
   * process.on('SIGTERM', () => void worker.stop());
   * ```
   */
  async work(options: WorkOptions = {}): Promise<Worker> {
    const worker = this.createWorker(options);
    await worker.start();
    return worker;
  }

  /**
   * Creates a dispatcher without starting it, so listeners can be attached before its first
   * claim; `await worker.start()` then runs it. {@link Jobs.work} does both.
   */
  createWorker(options: WorkOptions = {}): Worker {
    const worker = new Worker(this as Jobs<unknown>, options);
    this.#workers.add(worker);
    worker.on('stopped', () => this.#workers.delete(worker));
    return worker;
  }

  /** Wakes local workers of these rows' queues once `tx` commits, where the adapter can tell. */
  #wakeAfterCommit(tx: Tx, rows: readonly InsertRow[]): void {
    if (!this.adapter.afterCommit || this.#workers.size === 0) return;
    const queues = [...new Set(rows.map((r) => r.queue))];
    this.adapter.afterCommit(tx, () => this.wakeWorkers(queues));
  }

  /**
   * Wakes this process's idle workers so they claim at once instead of at their next poll.
   * Autocommit enqueues do this themselves; call it after committing a transaction that
   * enqueued, if the same process works the queue and you want the job to start immediately.
   */
  wakeWorkers(queues?: readonly string[]): void {
    for (const worker of this.#workers) {
      if (worker.state === 'running' && (!queues || queues.some((q) => worker.serves(q)))) worker.wake();
    }
  }
}

/**
 * Creates a client for one jobs table through one adapter.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: knexAdapter(knex), jobs: [sendEmail] });
 * ```
 */
export function createJobs<Tx>(options: CreateJobsOptions<Tx>): Jobs<Tx> {
  return new Jobs(options);
}
