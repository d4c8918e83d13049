/**
 * Harnesses of the Redis backend for the conformance suite, one per client (ioredis, node-redis).
 * Each harness has a table (key prefix) of its own on the machine's Redis, so files run in
 * parallel without seeing each other's jobs, and deletes its keys when it closes.
 */
import { randomBytes } from 'node:crypto';
import { Redis, type ChainableCommander } from 'ioredis';
import { createClient } from 'redis';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { redisAdapter, type NodeRedisClient, type NodeRedisMulti } from '../../adapters/redis/redis-adapter.ts';
import { redisPrefix } from '../../lib/backends/redis/redis-backend.ts';
import type { RedisSession } from '../../lib/backends/redis/redis-port.ts';
import type { Adapter } from '../../lib/backend/adapter.ts';
import type { Harness, JobRowView } from './harness.ts';

export const REDIS_URL = process.env['CONCORDIA_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Whether the machine's Redis answers. Under CI it must: its absence fails the run instead of skipping. */
export async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch (error) {
    if (process.env['CI']) throw new Error(`Redis is not reachable in CI (${String(error)}): every store must run there.`, { cause: error });
    console.warn(`\n!!! Redis is not reachable (${String(error)}); its tests are SKIPPED. Set CONCORDIA_REDIS_URL.\n`);
    return false;
  } finally {
    probe.disconnect();
  }
}

/** How a harness reaches Redis from outside the adapter under test: its own ioredis client. */
function outsideView(client: Redis, table: string) {
  const p = redisPrefix(table);
  const read = async (id: string): Promise<Record<string, string>> => client.hgetall(`${p}:job:${id}`);
  const num = (v: string | undefined): number => Number(v);
  const json = (v: string | undefined): unknown => {
    if (v === undefined) return null;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  };
  return {
    async rows(): Promise<JobRowView[]> {
      const ids = await client.zrangebylex(`${p}:ids`, '-', '+');
      const out: JobRowView[] = [];
      for (const id of ids) {
        const h = await read(id);
        if (!h['id']) continue;
        out.push({
          id,
          queue: h['queue']!,
          kind: h['kind']!,
          state: h['state']!,
          priority: num(h['priority']),
          attempt: num(h['attempt']),
          maxAttempts: num(h['max_attempts']),
          runAtMs: num(h['run_at']),
          finalizedAtMs: h['finalized_at'] === undefined ? null : num(h['finalized_at']),
          leaseToken: h['lease_token'] ?? null,
          lockedBy: h['locked_by'] ?? null,
          errors: (json(h['errors']) as JobRowView['errors']) ?? null,
          metadata: json(h['metadata']),
          args: json(h['args']),
        });
      }
      return out;
    },
    async expireLease(id: string): Promise<void> {
      const past = Date.now() - 1_000;
      await client.hset(`${p}:job:${id}`, 'lease_expires_at', past);
      await client.zadd(`${p}:running`, past, id);
    },
    /** Kills the subscription connections of this table (named after its channel by the adapters). */
    async killListeners(): Promise<number> {
      const list = String(await client.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=concordia:listen:${p}:wake `))
        .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      for (const id of ids) await client.call('CLIENT', 'KILL', 'ID', id);
      return ids.length;
    },
    async dropKeys(): Promise<void> {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${p}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    },
  };
}

/**
 * What both clients' harnesses share: a table of their own, the outside view, the business
 * writes' key, and the parts that do not depend on the client.
 */
function commonParts<Tx>(adapter: Adapter<Tx, RedisSession>) {
  const table = `cj_${randomBytes(4).toString('hex')}`;
  const outside = new Redis(REDIS_URL);
  const view = outsideView(outside, table);
  const ordersKey = `${redisPrefix(table)}:test-orders`;
  return {
    table,
    ordersKey,
    parts: {
      db: 'redis' as const,
      table,
      orderIds: async () => (await outside.smembers(ordersKey)).map(Number).sort((a, b) => a - b),
      rows: () => view.rows(),
      expireLease: (id: string) => view.expireLease(id),
      killListeners: () => view.killListeners(),
      async insertRaw(row: { kind: string; argsJson: string }): Promise<string> {
        // Straight through the backend: none of enqueue's checks of kind and args.
        const backend = adapter.backend({ table });
        const [id] = await backend.insert(adapter.autocommit(), [{ queue: 'corrupt', kind: row.kind, argsJson: row.argsJson, metadataJson: null, priority: 0, maxAttempts: 20, runAt: null, delayMs: 0 }], null);
        return id!;
      },
    },
    async close(): Promise<void> {
      await view.dropKeys();
      outside.disconnect();
    },
  };
}

/** The ioredis harness: the user's transaction is a `MULTI` pipeline. */
export async function ioredisHarness(): Promise<Harness<ChainableCommander>> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  // The machine's Redis keeps nothing on disk; its durability warnings are spec/redis/durability's
  // subject, and here they would only add noise to tests that count a worker's warnings.
  const adapter = ioredisAdapter(client, { durability: 'ignore' });
  const common = commonParts(adapter);
  return {
    ...common.parts,
    name: 'ioredis/redis',
    adapter: adapter as Adapter<ChainableCommander>,
    async inTransaction(fn) {
      const m = client.multi();
      let out;
      try {
        out = await fn(m);
      } catch (error) {
        m.discard();
        throw error;
      }
      const results = await m.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
      return out;
    },
    async insertOrder(tx, id) {
      tx.sadd(common.ordersKey, id);
    },
    notInTransaction: () => client,
    async close() {
      await common.close();
      client.disconnect();
    },
  };
}

/** The node-redis harness: the user's transaction is `client.multi()`; a rollback is `adapter.discard(m)`. */
export async function nodeRedisHarness(): Promise<Harness<NodeRedisMulti>> {
  const client = (await createClient({ url: REDIS_URL }).connect()) as unknown as NodeRedisClient & { multi(): NodeRedisMulti; close(): Promise<void> };
  const adapter = redisAdapter(client, { durability: 'ignore' }); // see ioredisHarness
  const common = commonParts(adapter);
  return {
    ...common.parts,
    name: 'node-redis/redis',
    adapter: adapter as Adapter<NodeRedisMulti>,
    async inTransaction(fn) {
      const m = client.multi();
      let out;
      try {
        out = await fn(m);
      } catch (error) {
        adapter.discard(m);
        throw error;
      }
      await m.exec();
      return out;
    },
    async insertOrder(tx, id) {
      tx.addCommand(['SADD', common.ordersKey, String(id)]);
    },
    notInTransaction: () => client,
    async close() {
      await common.close();
      await client.close();
    },
  };
}
