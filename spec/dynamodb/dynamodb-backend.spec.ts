/**
 * What only the DynamoDB backend has: DynamoDB's 100-action limit per transaction (refused
 * before the user's list is touched), unique-key races between lists sent by their users, the
 * spread of jobs over the index shards, document-shaped items for lib-dynamodb, and the table
 * check. On DynamoDB Local.
 */
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, GetItemCommand, type DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbAdapter, dynamodbTableDefinition, MAX_TRANSACTION_ACTIONS } from '../../adapters/dynamodb/dynamodb-adapter.ts';
import { createJobs, defineJob, InvalidArgsError, SchemaMismatchError, TransactionTooLargeError, type Jobs } from '../../lib/index.ts';
import { shardOf } from '../../lib/backends/dynamodb/table-definition.ts';
import { assertEnqueued, assertNotEnqueued, drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import { createJobsTable, dynamodbReachable, localClient } from '../support/dynamodb-harness.ts';

const available = await dynamodbReachable();

describe.skipIf(!available)('dynamodb backend', () => {
  let client: DynamoDBClient;
  let table: string;
  const item = defineJob('ddb_item', { handler: async () => {} });
  let jobs: Jobs<unknown[]>;
  let dynamo: ReturnType<typeof dynamodbAdapter>;

  beforeAll(async () => {
    client = localClient();
    table = await createJobsTable(client);
    dynamo = dynamodbAdapter({ client, reservationMs: 2_000 });
    jobs = createJobs({ adapter: dynamo, table, jobs: [item] });
  });

  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    client.destroy();
  });

  const order = (n: number): TransactWriteItem => ({ Put: { TableName: table, Item: { pk: { S: `o#${n}` } } } });

  it('refuses an enqueue past 100 actions with a typed error, leaving the list exactly as it was', async () => {
    const items: TransactWriteItem[] = Array.from({ length: 90 }, (_, i) => order(i));
    const before = structuredClone(items);
    const err = await jobs.enqueueMany(items, Array.from({ length: 11 }, (_, i) => item({ i }))).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionTooLargeError);
    expect((err as TransactionTooLargeError).code).toBe('TRANSACTION_TOO_LARGE');
    expect((err as Error).message).toMatch(/at most 100/);
    expect(items).toEqual(before);
    // A unique job needs two actions (the job and its key's guard): refused at 99, before its key is reserved.
    const full = [...items, ...Array.from({ length: 9 }, (_, i) => order(100 + i))];
    expect(full).toHaveLength(99);
    await expect(jobs.enqueueUnique(full, item({ u: 1 }), { unique: { key: `limit:${table}` } })).rejects.toBeInstanceOf(TransactionTooLargeError);
    expect(full).toHaveLength(99);
    // The key was never reserved: another caller takes it at once (a reservation would make it wait 2 s).
    const t = performance.now();
    expect((await jobs.enqueueUniqueAutocommit(item({ u: 2 }), { unique: { key: `limit:${table}` } })).inserted).toBe(true);
    expect(performance.now() - t).toBeLessThan(1_500);
    // Up to the limit it fits, and the list commits as one transaction.
    const ids = await jobs.enqueueMany(items, Array.from({ length: MAX_TRANSACTION_ACTIONS - 90 }, (_, i) => item({ i })));
    expect(items).toHaveLength(100);
    await dynamo.transact(items);
    const listed = await jobs.backend.listJobs(dynamo.autocommit(), { kind: 'ddb_item', state: 'available' });
    expect(listed.map((j) => j.id)).toEqual(expect.arrayContaining(ids));
  });

  it('a failing batch in one enqueueMany is cut back out of the list (atomic)', async () => {
    const items: TransactWriteItem[] = [order(500)];
    // Over 1 MiB in all, so the client splits it in two inserts. The second job passes the
    // client's size check but its item is just over DynamoDB's 400 KB: the first insert's item
    // must leave the list again.
    const roomy = createJobs({ adapter: dynamo, table, jobs: [item], maxArgsBytes: 1_000_000 });
    const err = await roomy.enqueueMany(items, [item({ big: 'x'.repeat(300 * 1024) }), item({ big: 'y'.repeat(409_388) })]).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgsError);
    expect((err as Error).message).toMatch(/400 KB/);
    expect(items).toEqual([order(500)]);
  });

  it('two lists racing for one unique key: the second to be sent fails as a whole, never two jobs', async () => {
    const key = `race:${table}`;
    const a: TransactWriteItem[] = [order(601)];
    const first = await jobs.enqueueUnique(a, item({ k: 1 }), { unique: { key } });
    expect(first.inserted).toBe(true);
    // b's enqueue waits while a's reservation stands; a is never sent nor discarded, so after
    // reservationMs (2 s here) b takes the key over.
    const b: TransactWriteItem[] = [order(602)];
    const second = await jobs.enqueueUnique(b, item({ k: 2 }), { unique: { key } });
    expect(second.inserted).toBe(true);
    await dynamo.transact(b);
    // a is sent late: its guard write's condition (its own reservation) fails, so nothing of a commits.
    const late = await dynamo.transact(a).then(() => null, (e: unknown) => e);
    expect((late as Error | null)?.name).toBe('TransactionCanceledException');
    const rows = await jobs.backend.listJobs(dynamo.autocommit(), { kind: 'ddb_item' });
    expect(rows.filter((r) => r.id === first.id)).toEqual([]);
    expect(rows.filter((r) => r.id === second.id)).toHaveLength(1);
    // A third caller sees the held key and gets the existing job, without adding anything to its list.
    const c: TransactWriteItem[] = [];
    expect(await jobs.enqueueUnique(c, item({ k: 3 }), { unique: { key } })).toEqual({ inserted: false, id: second.id });
    expect(c).toEqual([]);
  }, 20_000);

  it('discard() releases a dropped list\'s reservation at once', async () => {
    const key = `discard:${table}`;
    const a: TransactWriteItem[] = [];
    expect((await jobs.enqueueUnique(a, item({}), { unique: { key } })).inserted).toBe(true);
    await dynamo.discard(a);
    const t = performance.now();
    expect((await jobs.enqueueUniqueAutocommit(item({}), { unique: { key } })).inserted).toBe(true);
    expect(performance.now() - t).toBeLessThan(1_500);
  });

  it('spreads jobs over every shard of the ready index, and a claim reads them all in priority order', async () => {
    const ids = await jobs.enqueueManyAutocommit(
      Array.from({ length: 200 }, (_, i) => item({ i }, { priority: i % 3 })),
      { queue: 'spread' },
    );
    const perShard = new Map<number, number>();
    for (const id of ids) perShard.set(shardOf(id, 4), (perShard.get(shardOf(id, 4)) ?? 0) + 1);
    expect([...perShard.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const n of perShard.values()) expect(n).toBeGreaterThan(20);
    const claimed = await jobs.backend.claim(jobs.dispatcherDb(), { queues: ['spread'], limit: 200, workerId: 'w', leaseMs: 60_000, now: null });
    expect(claimed).toHaveLength(200);
    expect(claimed.map((c) => c.priority)).toEqual([...claimed.map((c) => c.priority)].sort((x, y) => x - y));
    expect(new Set(claimed.map((c) => c.id))).toEqual(new Set(ids));
  });

  it('document-shaped items go through lib-dynamodb\'s TransactWriteCommand', async () => {
    const doc = DynamoDBDocumentClient.from(client);
    const docAdapter = dynamodbAdapter({ client, itemShape: 'document' });
    const docJobs = createJobs({ adapter: docAdapter, table, jobs: [item] });
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [{ Put: { TableName: table, Item: { pk: 'o#700', total: 42 } } }];
    const id = await docJobs.enqueue(items, item({ via: 'document' }), { queue: 'doc' });
    expect(items[1]?.Put?.Item?.['q']).toBe('doc');
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    const [row] = await docJobs.backend.listJobs(docAdapter.autocommit(), { queue: 'doc' });
    expect(row).toMatchObject({ id, args: { via: 'document' }, state: 'available' });
  });

  it('testing helpers: a list sees its own jobs before it is sent; drainQueue runs them after', async () => {
    const items: TransactWriteItem[] = [order(800)];
    const id = await jobs.enqueue(items, item({ helper: true }), { queue: 'helpers' });
    await assertEnqueued(jobs, item, { tx: items, args: { helper: true } });
    await assertNotEnqueued(jobs, item, { queue: 'helpers' }); // not sent yet: nobody else sees it
    await dynamo.transact(items);
    expect((await listEnqueued(jobs, { queue: 'helpers' })).map((j) => [j.id, j.state])).toEqual([[id, 'available']]);
    const drained = await drainQueue(jobs, { queues: ['helpers'] });
    expect(drained.completed).toBe(1);
    expect((await listEnqueued(jobs, { queue: 'helpers' }))[0]?.state).toBe('completed');
  });

  it('retention deletes a pruned job\'s unique-key guard with it (guards do not pile up)', async () => {
    const key = `prune:${table}`;
    const first = await jobs.enqueueUniqueAutocommit(item({ p: 1 }, { queue: 'prune_guard' }), { unique: { key } });
    expect(first.inserted).toBe(true);
    expect(await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `u#${key}` } } }))).toHaveProperty('Item.jid.S', first.id);
    expect((await drainQueue(jobs, { queues: ['prune_guard'] })).completed).toBe(1);
    const pruned = await jobs.backend.prune(jobs.dispatcherDb(), { state: 'completed', olderThanMs: 0, limit: 1000, now: new Date(Date.now() + 60_000) });
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect((await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `u#${key}` } }, ConsistentRead: true }))).Item).toBeUndefined();
    expect((await jobs.enqueueUniqueAutocommit(item({ p: 2 }, { queue: 'prune_guard' }), { unique: { key } })).inserted).toBe(true);
  });

  it('verify names the table definition when the table or an index is missing', async () => {
    await expect(createJobs({ adapter: dynamo, table: `${table}_missing` }).verify()).rejects.toThrow(/does not exist.*dynamodbTableDefinition/);
    const partial = `${table}_partial`;
    const def = dynamodbTableDefinition(partial);
    const used = new Set(['pk', 'rp', 'rs', 'sp', 'ss']);
    await client.send(new CreateTableCommand({ ...def, AttributeDefinitions: def.AttributeDefinitions!.filter((a) => used.has(a.AttributeName!)), GlobalSecondaryIndexes: def.GlobalSecondaryIndexes!.slice(0, 2) }));
    try {
      const err = await createJobs({ adapter: dynamo, table: partial }).verify().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect((err as SchemaMismatchError).missingColumns).toEqual(['lease', 'state', 'fin']);
    } finally {
      await client.send(new DeleteTableCommand({ TableName: partial }));
    }
    expect((await client.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes).toHaveLength(5);
  });
});
