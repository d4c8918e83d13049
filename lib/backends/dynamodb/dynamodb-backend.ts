/**
 * The DynamoDB backend: one table (table-definition.ts), jobs as items, claims through a sharded
 * index of ready jobs with conditional updates that take a lease (dynamodb-claim.ts), fenced
 * completion (dynamodb-finish.ts), unique keys through guard items (dynamodb-unique.ts).
 * Enqueues append to the user's list of `TransactWriteItem`s; everything the dispatcher does is
 * a single-item conditional write, committed on its own.
 *
 * @internal
 */
import { DescribeTableCommand, ResourceNotFoundException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Backend, ClaimParams, DispatcherAccess, FailParams, JobCount, ListedJob, ListJobsFilter, PruneParams, RetryResult } from '../../backend/backend.ts';
import type { BackendCapabilities } from '../../backend/capabilities.ts';
import type * as Inspection from '../../backend/inspection.ts';
import { InvalidOptionError, SchemaMismatchError, StateError } from '../../errors.ts';
import { isUuidV7 } from '../../job-id.ts';
import type { ClaimedJob, Fence, InsertRow, UniqueInsertResult, UniqueInsertRow } from '../../job.ts';
import { uuidV7 } from '../../uuid-v7.ts';
import { claimJobs } from './dynamodb-claim.ts';
import { cancelJob, completeFences, extendFences, failFence, pruneFinished, readJob, releaseFences, rescueExpired, retryById } from './dynamodb-finish.ts';
import { DynamoInspection } from './dynamodb-inspection.ts';
import { DynamoOps } from './dynamodb-ops.ts';
import { appendToList, MAX_ITEM_BYTES, MAX_TRANSACTION_ACTIONS, type DynamoSession } from './dynamodb-session.ts';
import { insertUnique } from './dynamodb-unique.ts';
import { N, newJobItem, S } from './item-codec.ts';
import { DEFAULT_SHARDS, dynamodbTableDefinition, INDEX, MAX_SHARDS, PAUSED_PK } from './table-definition.ts';

type DispatcherDb = DispatcherAccess<DynamoSession>;

/** What the DynamoDB backend can do (see docs/design/backends.md). */
const DYNAMODB_CAPABILITIES: BackendCapabilities = {
  transactionalEnqueue: true,
  // The handler's list gets the completion as one more conditional write: all or nothing at send.
  transactionalCompletion: true,
  // A failed enqueue truncates the list back to where it was (atomic()).
  atomicBatches: true,
  syncEnqueue: false,
  wakeups: 'poll',
  ids: 'client',
  maxTransactionWrites: MAX_TRANSACTION_ACTIONS,
};

/** How the backend is tuned (adapter options). */
export interface DynamoBackendOptions {
  /** Partitions per index key (see the README for how many a throughput needs). Default 4. */
  shards?: number;
  /** How many shards of a queue one claim reads. Default: all (strict priority order). */
  claimFanout?: number;
  /** How long an unsent, undiscarded list keeps a unique key reserved. Default 60 s. */
  reservationMs?: number;
}

export class DynamoBackend implements Backend<DynamoSession> {
  readonly name = 'dynamodb';
  readonly capabilities = DYNAMODB_CAPABILITIES;
  readonly table: string;
  readonly shards: number;
  readonly #fanout: number;
  readonly #reservationMs: number;
  readonly #inspection: DynamoInspection;
  #turn = 0;
  readonly #promoted = new Map<string, number>();

  constructor(table: string, options: DynamoBackendOptions = {}) {
    this.table = table;
    this.shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isSafeInteger(this.shards) || this.shards < 1 || this.shards > MAX_SHARDS) throw new InvalidOptionError(`dynamodbAdapter: shards must be an integer from 1 to ${MAX_SHARDS}.`);
    this.#fanout = options.claimFanout ?? this.shards;
    if (!Number.isSafeInteger(this.#fanout) || this.#fanout < 1) throw new InvalidOptionError('dynamodbAdapter: claimFanout must be a positive integer.');
    this.#reservationMs = options.reservationMs ?? 60_000;
    this.#inspection = new DynamoInspection((s) => this.ops(s), this.shards);
    this.#turn = Math.floor(Math.random() * this.shards);
  }

  /** The calls on this table through the session's client. */
  ops(s: DynamoSession): DynamoOps {
    if (!s?.client) throw new StateError('The DynamoDB backend needs a session from dynamodbAdapter().');
    return new DynamoOps(s.client, this.table);
  }

  isJobId(text: string): boolean {
    return isUuidV7(text);
  }

  /**
   * The job items of `rows`, with ids. For users who build their request themselves: put the
   * items in your own `TransactWriteItems` (see the adapter's `jobItems`).
   */
  jobPuts(rows: readonly InsertRow[], now: Date | null): { ids: string[]; items: { Put: { TableName: string; Item: ReturnType<typeof newJobItem>; ConditionExpression: string } }[] } {
    const t = now?.getTime() ?? Date.now();
    // Ids from the wall clock even under a fake clock: they must sort by real creation order.
    const ids = rows.map(() => uuidV7());
    return { ids, items: rows.map((r, i) => ({ Put: { TableName: this.table, Item: newJobItem(ids[i]!, r, t, this.shards), ConditionExpression: 'attribute_not_exists(pk)' } })) };
  }

  async insert(s: DynamoSession, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
    const { ids, items } = this.jobPuts(rows, now);
    if (s.items) appendToList(s, items);
    else await this.ops(s).batchPut(items.map((i) => i.Put.Item));
    return ids;
  }

  async maxBatchBytes(_s: DynamoSession): Promise<number> {
    // The client counts a row's text twice (escaping on SQL): twice DynamoDB's item limit.
    return 2 * MAX_ITEM_BYTES;
  }

  async atomic<T>(s: DynamoSession, _name: string, fn: () => Promise<T>): Promise<T> {
    const mark = s.items?.length ?? 0;
    try {
      return await fn();
    } catch (error) {
      // Nothing was sent: cutting the list back undoes the failed enqueue entirely.
      if (s.items) s.items.length = mark;
      throw error;
    }
  }

  insertUnique(s: DynamoSession, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return insertUnique(this.ops(s), { shards: this.shards, reservationMs: this.#reservationMs }, s, row, now);
  }

  insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return this.insertUnique(db.autocommit, row, now);
  }

  claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    this.#turn = (this.#turn + 1) % this.shards;
    return claimJobs(this.ops(db.autocommit), { shards: this.shards, fanout: this.#fanout, promoted: this.#promoted }, p, this.#turn);
  }

  complete(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
    return completeFences(this.ops(db.autocommit), this.shards, fences, (now ?? new Date()).getTime());
  }

  async pausedQueues(s: DynamoSession): Promise<string[]> {
    const item = await this.ops(s).get(PAUSED_PK, true);
    return [...(item?.['qs']?.SS ?? [])].sort();
  }

  async setQueuePaused(s: DynamoSession, queue: string, paused: boolean): Promise<boolean> {
    const out = await this.ops(s).client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: S(PAUSED_PK) },
        UpdateExpression: paused ? 'ADD qs :q' : 'DELETE qs :q',
        ExpressionAttributeValues: { ':q': { SS: [queue] } },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const had = (out.Attributes?.['qs']?.SS ?? []).includes(queue);
    return had !== paused;
  }

  /**
   * Appends the completion to the handler's list, fenced on the lease: if the fence no longer
   * holds when the list is sent, DynamoDB cancels the whole transaction, the handler's writes too.
   */
  async completeWithin(s: DynamoSession, fence: Fence, now: Date | null): Promise<boolean> {
    if (!s.items) throw new StateError('completeWithin needs a session bound to a list of TransactWriteItems.');
    const j = await readJob(this.ops(s), fence.id);
    if (!j || j.state !== 'running' || j.leaseToken !== fence.token) return false;
    const t = (now ?? new Date()).getTime();
    const shard = Number.parseInt(fence.id.slice(-8), 16) % this.shards;
    appendToList(s, [
      {
        Update: {
          TableName: this.table,
          Key: { pk: S(`j#${fence.id}`) },
          UpdateExpression: 'SET st = :done, xs = :xs, fp = :fp, fa = :now REMOVE lp, le',
          ConditionExpression: 'st = :running AND lt = :tok',
          ExpressionAttributeValues: { ':done': S('completed'), ':xs': S(`completed#${shard}`), ':fp': S(`completed#${shard}`), ':now': N(t), ':running': S('running'), ':tok': S(fence.token) },
        },
      },
    ]);
    return true;
  }

  fail(db: DispatcherDb, p: FailParams): Promise<boolean> {
    return failFence(this.ops(db.autocommit), this.shards, p);
  }

  release(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<number> {
    return releaseFences(this.ops(db.autocommit), this.shards, fences, (now ?? new Date()).getTime());
  }

  extendLeases(db: DispatcherDb, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
    return extendFences(this.ops(db.autocommit), fences, leaseMs, (now ?? new Date()).getTime());
  }

  rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    return rescueExpired(this.ops(db.autocommit), this.shards, errorJson, limit, (now ?? new Date()).getTime());
  }

  prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    return pruneFinished(this.ops(db.autocommit), this.shards, p);
  }

  cancel(s: DynamoSession, id: string, now: Date | null): Promise<boolean> {
    return cancelJob(this.ops(s), this.shards, id, (now ?? new Date()).getTime());
  }

  /** Checks that the table exists with every index; the error names the function that makes its definition. */
  async verify(s: DynamoSession): Promise<void> {
    let indexes: string[];
    try {
      const out = await s.client.send(new DescribeTableCommand({ TableName: this.table }));
      indexes = (out.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName ?? '');
    } catch (error) {
      if (error instanceof ResourceNotFoundException || (error as { name?: unknown }).name === 'ResourceNotFoundException') {
        throw new SchemaMismatchError(`The DynamoDB table "${this.table}" does not exist: create it with new CreateTableCommand(dynamodbTableDefinition('${this.table}')).`, []);
      }
      throw error;
    }
    const missing = Object.values(INDEX).filter((name) => !indexes.includes(name));
    if (missing.length > 0) {
      throw new SchemaMismatchError(`The DynamoDB table "${this.table}" lacks the index(es) ${missing.join(', ')}: see dynamodbTableDefinition('${this.table}') for its definition.`, missing);
    }
  }

  /** The table's `CreateTable` input. */
  tableDefinition(): ReturnType<typeof dynamodbTableDefinition> {
    return dynamodbTableDefinition(this.table);
  }

  retry(s: DynamoSession, id: string, now: Date | null): Promise<RetryResult> {
    return retryById(this.ops(s), this.shards, id, (now ?? new Date()).getTime());
  }

  // --- Inspection: dynamodb-inspection.ts.

  listJobs(s: DynamoSession, filter: ListJobsFilter): Promise<ListedJob[]> {
    return this.#inspection.listJobs(s, filter);
  }
  countJobs(s: DynamoSession): Promise<JobCount[]> {
    return this.#inspection.countJobs(s);
  }
  searchJobs(s: DynamoSession, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage> {
    return this.#inspection.searchJobs(s, params);
  }
  countMatching(s: DynamoSession, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount> {
    return this.#inspection.countMatching(s, filter, options);
  }
  jobDetail(s: DynamoSession, id: string): Promise<Inspection.JobDetail | null> {
    return this.#inspection.jobDetail(s, id);
  }
  overviewCounts(s: DynamoSession, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]> {
    return this.#inspection.overviewCounts(s, options);
  }
  throughput(s: DynamoSession, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]> {
    return this.#inspection.throughput(s, params);
  }
  runningJobs(s: DynamoSession, limit: number): Promise<Inspection.RunningJob[]> {
    return this.#inspection.runningJobs(s, limit);
  }
  applyAction(db: DispatcherDb, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]> {
    return this.#inspection.applyAction(db, action, target, now);
  }
}
