/**
 * DynamoDB (on DynamoDB Local, `BENCH_DYNAMODB_ENDPOINT` or `CONCORDIA_DYNAMODB_ENDPOINT`): a
 * Concordia drain, enqueue inside the application's transaction (its list of TransactWriteItems,
 * next to one write of its own), and a hand-written raw loop (Query a ready index, a conditional
 * update to take each job, one more to finish it) as the emulator's ceiling.
 *
 * DynamoDB Local is a Java program on SQLite that serialises writes: its speed says nothing
 * about the service's. What carries over is the number of requests per job, reported as
 * `requestsPerJob` (and per kind of request) by counting every call the client sends.
 * Each run makes its own table (`bench_<tag>`) and deletes it.
 */
import { BatchWriteItemCommand, CreateTableCommand, DeleteTableCommand, DynamoDBClient, QueryCommand, ScanCommand, UpdateItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { dynamodbAdapter, dynamodbTableDefinition } from '../../adapters/dynamodb/dynamodb-adapter.ts';
import { createJobs, defineJob, type Jobs, type WorkOptions } from '../../lib/index.ts';
import { Meter, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

export const DYNAMODB_ENDPOINT = process.env['BENCH_DYNAMODB_ENDPOINT'] ?? process.env['CONCORDIA_DYNAMODB_ENDPOINT'] ?? '';

/** A client of the emulator that counts the requests it sends, by operation. */
function countingClient(): { client: DynamoDBClient; counts: Map<string, number>; total(): number } {
  const client = new DynamoDBClient({ endpoint: DYNAMODB_ENDPOINT, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 5 });
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return { client, counts, total: () => [...counts.values()].reduce((a, b) => a + b, 0) };
}

function perJob(counts: Map<string, number>, before: Map<string, number>, jobs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, n] of counts) {
    const d = n - (before.get(name) ?? 0);
    if (d === 0) continue;
    out[`req${name}PerJob`] = d / jobs;
    total += d;
  }
  out['requestsPerJob'] = total / jobs;
  return out;
}

function workOptions(spec: CaseSpec): WorkOptions {
  const o: WorkOptions = { logger: { warn: console.warn, error: console.error } };
  if (spec.opts['concurrency'] !== undefined) o.concurrency = Number(spec.opts['concurrency']);
  if (spec.opts['prefetch'] !== undefined) o.prefetch = Number(spec.opts['prefetch']);
  return o;
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  if (DYNAMODB_ENDPOINT === '') throw new Error('no DynamoDB Local: set BENCH_DYNAMODB_ENDPOINT');
  const table = `bench_${spec.tag}`;
  const c = countingClient();
  try {
    if (spec.impl === 'raw-dynamodb') return await raw(spec, c, table);
    await c.client.send(new CreateTableCommand(dynamodbTableDefinition(table)));
    if (spec.scenario === 'drain') return await drain(spec, c, table);
    return await enqueue(spec, c, table);
  } finally {
    await c.client.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    c.client.destroy();
  }
}

/** Jobs completed, counted through the `state` index (keys only), outside the request count. */
async function completedCount(side: DynamoDBClient, table: string): Promise<number> {
  let n = 0;
  for (let shard = 0; shard < 4; shard++) {
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const res = await side.send(
        new QueryCommand({ TableName: table, IndexName: 'state', KeyConditionExpression: 'xs = :xs', ExpressionAttributeValues: { ':xs': { S: `completed#${shard}` } }, Select: 'COUNT', ...(start && { ExclusiveStartKey: start }) }),
      );
      n += res.Count ?? 0;
      start = res.LastEvaluatedKey;
    } while (start);
  }
  return n;
}

async function drain(spec: CaseSpec, c: ReturnType<typeof countingClient>, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const jobs = createJobs({ adapter: dynamodbAdapter({ client: c.client }), jobs: [noop], table });
  for (let i = 0; i < spec.n; i += 1000) await jobs.enqueueManyAutocommit(Array.from({ length: Math.min(1000, spec.n - i) }, (_, k) => noop({ i: i + k })));
  const side = countingClient();
  let completed = 0;
  const before = new Map(c.counts);
  const meter = new Meter();
  meter.start();
  const worker = jobs.createWorker(workOptions(spec));
  worker.on('job:completed', () => void completed++);
  await worker.start();
  const done = await waitDrained(spec.n, () => completed, () => completedCount(side.client, table), performance.now() + spec.capSeconds * 1000);
  const m = meter.stop();
  await worker.stop();
  side.client.destroy();
  return rateResult(spec.n, done, m, perJob(c.counts, before, Math.max(done, 1)));
}

/** Enqueue inside the application's list, next to one write of its own; `batch` jobs per list (at most 99). */
async function enqueue(spec: CaseSpec, c: ReturnType<typeof countingClient>, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const dynamo = dynamodbAdapter({ client: c.client });
  const jobs = createJobs({ adapter: dynamo, jobs: [noop], table }) as Jobs<unknown[]>;
  const batch = Number(spec.opts['batch'] ?? 1);
  const lanes = Number(spec.opts['concurrency'] ?? 1);
  const before = new Map(c.counts);
  const meter = new Meter();
  meter.start();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < spec.n) {
      const i = next;
      next += batch;
      const items: TransactWriteItem[] = [{ Put: { TableName: table, Item: { pk: { S: `order#${i}` } } } }];
      await jobs.enqueueMany(items, Array.from({ length: Math.min(batch, spec.n - i) }, (_, k) => noop({ i: i + k })));
      await dynamo.transact(items);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const m = meter.stop();
  return rateResult(spec.n, spec.n, m, perJob(c.counts, before, spec.n));
}

/**
 * The raw loop: jobs in a table with a sparse `ready` index, one partition per lane (`q<lane>`,
 * sort id), so lanes never race; each lane Queries up to `batch` ids of its partition, takes each
 * with a conditional update that removes it from the index, and marks it done with a second
 * update. No leases, retries or priorities: the emulator's ceiling for "read an index, write
 * twice per job".
 */
async function raw(spec: CaseSpec, c: ReturnType<typeof countingClient>, table: string): Promise<CaseResult> {
  await c.client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'rp', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{ IndexName: 'ready', KeySchema: [{ AttributeName: 'rp', KeyType: 'HASH' }, { AttributeName: 'pk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
    }),
  );
  const lanes = Number(spec.opts['lanes'] ?? 10);
  for (let i = 0; i < spec.n; i += 25) {
    const puts = Array.from({ length: Math.min(25, spec.n - i) }, (_, k) => ({ PutRequest: { Item: { pk: { S: `j#${String(i + k).padStart(9, '0')}` }, rp: { S: `q${(i + k) % lanes}` }, st: { S: 'available' } } } }));
    await c.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: puts } }));
  }
  const batch = Number(spec.opts['batch'] ?? 100);
  let done = 0;
  const before = new Map(c.counts);
  const meter = new Meter();
  meter.start();
  const deadline = performance.now() + spec.capSeconds * 1000;
  const lane = async (l: number): Promise<void> => {
    while (done < spec.n && performance.now() < deadline) {
      const res = await c.client.send(new QueryCommand({ TableName: table, IndexName: 'ready', KeyConditionExpression: 'rp = :q', ExpressionAttributeValues: { ':q': { S: `q${l}` } }, Limit: batch }));
      const keys = (res.Items ?? []).map((it) => it['pk']!.S!);
      if (keys.length === 0) return;
      for (const pk of keys) {
        try {
          await c.client.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: pk } }, UpdateExpression: 'SET st = :r REMOVE rp', ConditionExpression: 'attribute_exists(rp)', ExpressionAttributeValues: { ':r': { S: 'running' } } }));
        } catch {
          continue; // taken meanwhile (not by another lane: each reads its own partition)
        }
        await c.client.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: pk } }, UpdateExpression: 'SET st = :c', ExpressionAttributeValues: { ':c': { S: 'completed' } } }));
        done++;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  const m = meter.stop();
  const check = await c.client.send(new ScanCommand({ TableName: table, Select: 'COUNT', FilterExpression: 'st = :c', ExpressionAttributeValues: { ':c': { S: 'completed' } } }));
  if ((check.Count ?? 0) < done) throw new Error(`raw: ${done} counted, ${check.Count} completed in the table`);
  const extra = perJob(c.counts, before, Math.max(done, 1));
  return rateResult(spec.n, done, m, extra);
}
