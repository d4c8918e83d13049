/**
 * The DynamoDB adapter (AWS SDK v3): your transaction is the list of `TransactWriteItem`s you
 * send with `TransactWriteItemsCommand`. `enqueue` appends the job's write to it and sends
 * nothing; the job commits with your own writes when you send the list.
 *
 * ```ts
 * const client = new DynamoDBClient({});
 * const dynamo = dynamodbAdapter({ client });
 * const jobs = createJobs({ adapter: dynamo, table: 'concordia_jobs', jobs: [sendEmail] });
 * const items: TransactWriteItem[] = [{ Put: { TableName: 'orders', Item: { pk: { S: 'order#1' } } } }];
 * await jobs.enqueue(items, sendEmail({ orderId: '1' })); // appended, nothing sent yet
 * await dynamo.transact(items); // or client.send(new TransactWriteItemsCommand({ TransactItems: items }))
 * ```
 *
 * @module concordia/dynamodb
 */
import { TransactWriteItemsCommand, type DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Adapter } from '../../lib/backend/adapter.ts';
import { DynamoBackend, type DynamoBackendOptions } from '../../lib/backends/dynamodb/dynamodb-backend.ts';
import { DynamoOps } from '../../lib/backends/dynamodb/dynamodb-ops.ts';
import { existingListState, listState, type DynamoItemShape, type DynamoSession } from '../../lib/backends/dynamodb/dynamodb-session.ts';
import { releaseReservation } from '../../lib/backends/dynamodb/dynamodb-unique.ts';
import { NotInTransactionError } from '../../lib/errors.ts';

export type { DynamoSession, DynamoItemShape } from '../../lib/backends/dynamodb/dynamodb-session.ts';
export type { DynamoBackendOptions } from '../../lib/backends/dynamodb/dynamodb-backend.ts';
export { dynamodbTableDefinition } from '../../lib/backends/dynamodb/table-definition.ts';
export { MAX_TRANSACTION_ACTIONS } from '../../lib/backends/dynamodb/dynamodb-session.ts';

/** Options of {@link dynamodbAdapter}. */
export interface DynamodbAdapterOptions extends DynamoBackendOptions {
  /** A `DynamoDBClient` of `@aws-sdk/client-dynamodb` (the worker's reads and writes go through it). */
  client: DynamoDBClient;
  /**
   * The form of the items `enqueue` appends to your list: `attribute` (default) for
   * `TransactWriteItemsCommand`, `document` for `@aws-sdk/lib-dynamodb`'s `TransactWriteCommand`
   * (plain values; the table's attributes are the same either way).
   */
  itemShape?: DynamoItemShape;
}

/** The DynamoDB adapter: `Tx` is your list of transaction items. */
export interface DynamodbAdapter extends Adapter<unknown[], DynamoSession> {
  /**
   * Sends `items` as one `TransactWriteItems` request (attribute-shaped items), then wakes this
   * process's idle workers. The same as sending it yourself, plus the wake-up.
   */
  transact(items: TransactWriteItem[]): Promise<void>;
  /**
   * Tells the adapter you will not send `items`: unique keys reserved by enqueues into it are
   * released at once. A list dropped without this keeps them reserved for `reservationMs`.
   */
  discard(items: unknown[]): Promise<void>;
}

/**
 * Creates the adapter. The table must exist: create it from `dynamodbTableDefinition(table)`.
 */
export function dynamodbAdapter(options: DynamodbAdapterOptions): DynamodbAdapter {
  const { client, itemShape = 'attribute', ...tuning } = options;
  const autocommit: DynamoSession = { client, items: null, shape: itemShape };
  const backends = new Map<string, DynamoBackend>();
  const backendOf = (table: string): DynamoBackend => {
    let b = backends.get(table);
    if (!b) {
      b = new DynamoBackend(table, tuning);
      backends.set(table, b);
    }
    return b;
  };
  const adapter: DynamodbAdapter = {
    name: 'dynamodb',
    backend: (o) => backendOf(o.table),
    bind(tx) {
      if (!Array.isArray(tx)) {
        throw new NotInTransactionError('dynamodbAdapter: enqueue() needs your list of TransactWriteItems (an array you then send with TransactWriteItemsCommand); a client would write the job on its own.');
      }
      return { client, items: tx, shape: itemShape };
    },
    autocommit: () => autocommit,
    // Every write of the dispatcher is one conditional single-item write: no transaction needed.
    transaction: (fn) => fn(autocommit),
    afterCommit(tx, fn) {
      if (Array.isArray(tx)) listState(tx).onCommit.push(fn);
    },
    async userTransaction(fn) {
      const items: TransactWriteItem[] = [];
      try {
        const out = await fn(items);
        await adapter.transact(items);
        return out;
      } catch (error) {
        await adapter.discard(items);
        throw error;
      }
    },
    async transact(items) {
      if (items.length > 0) await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      const state = existingListState(items);
      if (!state) return;
      state.reserved = [];
      for (const hook of state.onCommit.splice(0)) {
        try {
          hook();
        } catch {
          // A hook's failure is its own: the list has committed.
        }
      }
    },
    async discard(items) {
      const state = existingListState(items);
      if (!state || state.token === null) return;
      const keys = state.reserved.splice(0);
      state.onCommit = [];
      // A guard lives in the jobs table of the client that reserved it: try each table this adapter serves.
      for (const b of backends.values()) {
        const ops = new DynamoOps(client, b.table);
        await Promise.all(keys.map((k) => releaseReservation(ops, k, state.token!).catch(() => {})));
      }
    },
  };
  return adapter;
}
