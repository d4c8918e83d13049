/**
 * The DynamoDB backend's session, and the user's transaction: the list of `TransactWriteItem`s
 * they will send with `TransactWriteItems`. An enqueue appends to that list and sends nothing;
 * the jobs commit (or not) with the user's own writes when the user sends it.
 *
 * @internal Not semver-stable.
 */
import type { AttributeValue, DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvalidArgsError, TransactionTooLargeError } from '../../errors.ts';

/** DynamoDB's limits on one `TransactWriteItems` request and one item. */
export const MAX_TRANSACTION_ACTIONS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * The form of the items in the user's list: `attribute` for `@aws-sdk/client-dynamodb`'s
 * `TransactWriteItemsCommand` (`{ S: 'x' }` values), `document` for `@aws-sdk/lib-dynamodb`'s
 * `TransactWriteCommand` (plain values).
 */
export type DynamoItemShape = 'attribute' | 'document';

/** What an enqueue remembers about one user list (keyed by the array itself). */
export interface ListState {
  /** Token of the unique-key reservations this list holds (one per list, see dynamodb-unique.ts). */
  token: string | null;
  /** Guard keys reserved for this list: released by `discard`, or taken over once they expire. */
  reserved: string[];
  /** Called after the adapter's `transact()` has committed this list. */
  onCommit: (() => void)[];
}

const lists = new WeakMap<object, ListState>();

/** The state of a user list, created on first use. */
export function listState(items: object): ListState {
  let s = lists.get(items);
  if (!s) {
    s = { token: null, reserved: [], onCommit: [] };
    lists.set(items, s);
  }
  return s;
}

/** The state of a list if an enqueue has touched it. */
export function existingListState(items: object): ListState | undefined {
  return lists.get(items);
}

/**
 * The backend's session: the client for reads and immediate writes, and the user's list when
 * the session is bound to one (enqueues then append to it instead of writing).
 */
export interface DynamoSession {
  /** @internal */
  readonly client: DynamoDBClient;
  /** @internal */
  readonly items: unknown[] | null;
  /** @internal */
  readonly shape: DynamoItemShape;
}

/** A rough size of an attribute value as DynamoDB counts it (names plus values, UTF-8). */
function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return 21;
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + valueBytes(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((n, x) => n + Buffer.byteLength(x, 'utf8'), 0);
  return 1;
}

/** The size of an item as DynamoDB counts it towards its 400 KB limit. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name, 'utf8') + valueBytes(v);
  return n;
}

/** An upper bound of the size of one item of the user's list (whatever its shape). */
function entryBytes(entry: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(entry) ?? '', 'utf8');
  } catch {
    return 0;
  }
}

/**
 * An attribute value as lib-dynamodb's document client writes it (plain strings, numbers and
 * lists: all the backend's items hold). Written here so `@aws-sdk/util-dynamodb` is not needed.
 */
export function toDocumentValue(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.L !== undefined) return v.L.map(toDocumentValue);
  if (v.SS !== undefined) return new Set(v.SS);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.M !== undefined) return toDocument(v.M);
  return undefined;
}

export function toDocument(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toDocumentValue(v)]));
}

/** The reverse of {@link toDocumentValue}, for reading back the jobs in a document-shaped list. */
export function fromDocumentValue(v: unknown): AttributeValue {
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (v === null || v === undefined) return { NULL: true };
  if (Array.isArray(v)) return { L: v.map(fromDocumentValue) };
  if (v instanceof Set) return { SS: [...(v as Set<string>)] };
  return { M: fromDocument(v as Record<string, unknown>) };
}

export function fromDocument(item: Record<string, unknown>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromDocumentValue(v)]));
}

/** The item in the user's shape. */
function shaped(entry: TransactWriteItem, shape: DynamoItemShape): unknown {
  if (shape === 'attribute') return entry;
  const convert = (op: { Item?: Record<string, AttributeValue> | undefined; Key?: Record<string, AttributeValue> | undefined; ExpressionAttributeValues?: Record<string, AttributeValue> | undefined }) => ({
    ...op,
    ...(op.Item && { Item: toDocument(op.Item) }),
    ...(op.Key && { Key: toDocument(op.Key) }),
    ...(op.ExpressionAttributeValues && { ExpressionAttributeValues: toDocument(op.ExpressionAttributeValues) }),
  });
  if (entry.Put) return { Put: convert(entry.Put) };
  if (entry.Update) return { Update: convert(entry.Update) };
  if (entry.Delete) return { Delete: convert(entry.Delete) };
  if (entry.ConditionCheck) return { ConditionCheck: convert(entry.ConditionCheck) };
  return entry;
}

/**
 * Appends `entries` to the user's list, all or none: DynamoDB's limits (100 actions, 4 MB, 400 KB
 * per item) are checked first, so a refused call leaves the list exactly as it was.
 */
export function appendToList(s: DynamoSession, entries: readonly TransactWriteItem[]): void {
  const items = s.items!;
  if (items.length + entries.length > MAX_TRANSACTION_ACTIONS) {
    throw new TransactionTooLargeError(
      `This enqueue needs ${entries.length} more action(s) in a list that holds ${items.length}: DynamoDB takes at most ${MAX_TRANSACTION_ACTIONS} per TransactWriteItems. ` +
        'Split the jobs over several transactions, or enqueue them with enqueueManyAutocommit (not atomic with your writes).',
      `${MAX_TRANSACTION_ACTIONS} actions`,
    );
  }
  let bytes = 0;
  for (const [i, e] of entries.entries()) {
    const item = e.Put?.Item;
    if (item && itemBytes(item) > MAX_ITEM_BYTES) {
      throw new InvalidArgsError(entries.length === 1 ? 'args' : `jobs[${i}].args`, `this job's item would be over DynamoDB's ${MAX_ITEM_BYTES / 1024} KB item limit. Store large payloads elsewhere and pass a reference.`);
    }
    bytes += entryBytes(e);
  }
  for (const e of items) bytes += entryBytes(e);
  if (bytes > MAX_TRANSACTION_BYTES) {
    throw new TransactionTooLargeError(`This enqueue would take the TransactWriteItems request past DynamoDB's 4 MB: split it over several transactions.`, '4 MB');
  }
  for (const e of entries) items.push(shaped(e, s.shape));
}
