/**
 * The DynamoDB harness for the conformance suite, on DynamoDB Local. Each harness has a table of
 * its own (random suffix), so files run in parallel, and deletes it when it closes. The outside
 * view reads the table through a client of its own.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ListTablesCommand, ScanCommand, UpdateItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { dynamodbAdapter, dynamodbTableDefinition } from '../../adapters/dynamodb/dynamodb-adapter.ts';
import { DynamoBackend } from '../../lib/backends/dynamodb/dynamodb-backend.ts';
import { decodeJob, parsedErrors } from '../../lib/backends/dynamodb/item-codec.ts';
import type { Adapter } from '../../lib/backend/adapter.ts';
import type { Harness, JobRowView } from './harness.ts';
import { dynamodbEndpoint } from './emulator-endpoints.ts';

/** A client of DynamoDB Local (any credentials are accepted). */
export function localClient(endpoint = dynamodbEndpoint()): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 5 });
}

/**
 * Whether DynamoDB Local is there: the run's emulator (globalSetup) or CONCORDIA_DYNAMODB_ENDPOINT.
 * Under CI it must be (globalSetup has already failed the run otherwise).
 */
export async function dynamodbReachable(): Promise<boolean> {
  const endpoint = dynamodbEndpoint();
  if (endpoint === '') {
    if (process.env['CI']) throw new Error('DynamoDB Local is not available in CI: every store must run there.');
    console.warn('\n!!! DynamoDB Local is not available; its tests are SKIPPED. Set CONCORDIA_DYNAMODB_ENDPOINT.\n');
    return false;
  }
  const probe = localClient(endpoint);
  try {
    await probe.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch (error) {
    if (process.env['CI']) throw new Error(`DynamoDB Local is not reachable in CI (${String(error)}).`, { cause: error });
    console.warn(`\n!!! DynamoDB Local is not reachable at ${endpoint} (${String(error)}); its tests are SKIPPED.\n`);
    return false;
  } finally {
    probe.destroy();
  }
}

/** Creates a jobs table with a random name; returns it. */
export async function createJobsTable(client: DynamoDBClient): Promise<string> {
  const table = `cj_${randomBytes(4).toString('hex')}`;
  await client.send(new CreateTableCommand(dynamodbTableDefinition(table)));
  return table;
}

export async function dynamodbHarness(): Promise<Harness<TransactWriteItem[]>> {
  const client = localClient();
  const outside = localClient();
  const table = await createJobsTable(outside);
  const adapter = dynamodbAdapter({ client });
  const all = async (): Promise<Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>[]> => {
    const out: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>[] = [];
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const res = await outside.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start && { ExclusiveStartKey: start }) }));
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  };
  const json = (v: string | null): unknown => {
    if (v === null) return null;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  };
  return {
    raceJobs: 1000,
    name: 'dynamodb',
    db: 'dynamodb',
    adapter: adapter as unknown as Adapter<TransactWriteItem[]>,
    table,
    async inTransaction(fn) {
      const items: TransactWriteItem[] = [];
      let out;
      try {
        out = await fn(items);
      } catch (error) {
        await adapter.discard(items);
        throw error;
      }
      await adapter.transact(items);
      return out;
    },
    async insertOrder(tx, id) {
      tx.push({ Put: { TableName: table, Item: { pk: { S: `o#${id}` }, order: { N: String(id) } } } });
    },
    async orderIds() {
      return (await all())
        .filter((i) => i['pk']?.S?.startsWith('o#'))
        .map((i) => Number(i['order']?.N))
        .sort((a, b) => a - b);
    },
    notInTransaction: () => client,
    async rows(): Promise<JobRowView[]> {
      return (await all())
        .filter((i) => i['pk']?.S?.startsWith('j#'))
        .map(decodeJob)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((j) => ({
          id: j.id,
          queue: j.queue,
          kind: j.kind,
          state: j.state,
          priority: j.priority,
          attempt: j.attempt,
          maxAttempts: j.maxAttempts,
          runAtMs: j.runAt,
          finalizedAtMs: j.finalizedAt,
          leaseToken: j.leaseToken,
          lockedBy: j.lockedBy,
          errors: parsedErrors(j) as JobRowView['errors'],
          metadata: json(j.metadata),
          args: json(j.args),
        }));
    },
    async expireLease(id) {
      // created_at is always in the past: a lease that expired then is long gone.
      await outside.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: `j#${id}` } }, UpdateExpression: 'SET le = ca', ConditionExpression: 'attribute_exists(le)' }));
    },
    async insertRaw(row) {
      // Straight through the backend: none of enqueue's checks of kind and args.
      const backend = new DynamoBackend(table);
      const [id] = await backend.insert(adapter.autocommit(), [{ queue: 'corrupt', kind: row.kind, argsJson: row.argsJson, metadataJson: null, priority: 0, maxAttempts: 20, runAt: null, delayMs: 0 }], null);
      return id!;
    },
    async close() {
      await outside.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      client.destroy();
      outside.destroy();
    },
  };
}
