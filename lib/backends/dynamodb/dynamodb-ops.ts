/**
 * The few DynamoDB calls the backend makes, wrapped once: a conditional update that answers
 * null when its condition fails (the normal outcome of losing a race, not an error), reads, and
 * index queries.
 *
 * @internal
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from './item-codec.ts';

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

export class DynamoOps {
  readonly client: DynamoDBClient;
  readonly table: string;
  constructor(client: DynamoDBClient, table: string) {
    this.client = client;
    this.table = table;
  }

  async get(pk: string, consistent = true): Promise<Item | null> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk } }, ConsistentRead: consistent }));
    return out.Item ?? null;
  }

  /** Up to 100 items by key, in any order (unprocessed keys are asked again). */
  async batchGet(pks: readonly string[]): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < pks.length; i += 100) {
      let keys: Record<string, { S: string }>[] = pks.slice(i, i + 100).map((pk) => ({ pk: { S: pk } }));
      for (let round = 0; keys.length > 0; round++) {
        const res = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        out.push(...(res.Responses?.[this.table] ?? []));
        keys = (res.UnprocessedKeys?.[this.table]?.Keys ?? []) as typeof keys;
        if (keys.length > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** round, 1000)));
      }
    }
    return out;
  }

  /** Writes new items 25 at a time (each committed on its own: not atomic). */
  async batchPut(items: readonly Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round++) {
        const res = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }));
        requests = (res.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** round, 1000)));
      }
    }
  }

  /** A conditional put; false when the condition failed. */
  async put(item: Item, condition?: string, values?: Item): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.table, Item: item, ...(condition && { ConditionExpression: condition }), ...(values && { ExpressionAttributeValues: values }) }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A conditional update returning the item after it, or null when the condition failed. */
  async update(pk: string, expression: string, condition: string | null, values: Item, names?: Record<string, string>): Promise<Item | null> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: pk } },
          UpdateExpression: expression,
          ...(condition && { ConditionExpression: condition }),
          ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
          ...(names && { ExpressionAttributeNames: names }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /** A conditional delete; false when the condition failed. */
  async delete(pk: string, condition?: string, values?: Item): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: pk } }, ...(condition && { ConditionExpression: condition }), ...(values && { ExpressionAttributeValues: values }) }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Deletes a job item on `condition`, then the guard of its unique key if that guard still
   * names it (a guard is otherwise kept forever: one per key ever used, cron slots included).
   * False when the condition failed.
   */
  async deleteJob(id: string, condition: string, values: Item): Promise<boolean> {
    let old: Item | undefined;
    try {
      const out = await this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: `j#${id}` } }, ConditionExpression: condition, ExpressionAttributeValues: values, ReturnValues: 'ALL_OLD' }),
      );
      old = out.Attributes;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    const key = old?.['uk']?.S;
    if (key !== undefined) await this.delete(`u#${key}`, 'g = :held AND jid = :id', { ':held': { S: 'held' }, ':id': { S: id } });
    return true;
  }

  /**
   * Items of one index partition in sort order, up to `max` (all when null), read in pages.
   * Index reads are eventually consistent: callers confirm with a conditional write or a read
   * of the item.
   */
  async query(input: Omit<QueryCommandInput, 'TableName'>, max: number | null): Promise<Item[]> {
    const out: Item[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const res = await this.client.send(
        new QueryCommand({ TableName: this.table, ...input, ...(max !== null && { Limit: Math.min(max - out.length, 1000) }), ...(start && { ExclusiveStartKey: start }) }),
      );
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start && (max === null || out.length < max));
    return out;
  }
}

export { isConditionFailure };
