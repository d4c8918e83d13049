/**
 * ioredis `keyPrefix`: ioredis puts the prefix before every key a command names, but not before
 * pub/sub channels. The jobs' keys stay consistent (every script derives its keys from KEYS[1],
 * which carries the prefix), while the wake-up channel the scripts PUBLISH to is built inside the
 * script from that prefixed key: the worker must subscribe to the prefixed name too, or it hears
 * nothing and waits for its poll.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { createJobs, defineJob, type Worker } from '../../lib/index.ts';
import { REDIS_URL, redisReachable } from '../support/redis-harness.ts';

const available = await redisReachable();
const ping = defineJob('prefix_ping', { handler: async () => {} });
const keyPrefix = `cj_kp_${randomBytes(4).toString('hex')}:`;
const table = 'prefixed_jobs';

describe.skipIf(!available)('ioredis with keyPrefix', () => {
  let admin: Redis;
  let client: Redis;
  let producerClient: Redis;
  const workers: Worker[] = [];

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
    client = new Redis(REDIS_URL, { keyPrefix });
    producerClient = new Redis(REDIS_URL, { keyPrefix });
  });

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    client.disconnect();
    producerClient.disconnect();
    admin.disconnect();
  });

  it('keeps every key under the prefix, and an enqueue from another client wakes an idle worker', async () => {
    const jobs = createJobs({ adapter: ioredisAdapter(client, { durability: 'ignore' }), jobs: [ping], table });
    // Another client object, as another process would be: its commit cannot wake this worker in-process.
    const producer = createJobs({ adapter: ioredisAdapter(producerClient, { durability: 'ignore' }), jobs: [ping], table });
    // An hour between polls: only the published wake-up can start the job within the test.
    const worker = jobs.createWorker({ pollIntervalMs: 3_600_000 });
    workers.push(worker);
    const listening = worker.next('listening');
    await worker.start();
    await listening;
    await worker.drained();
    const completed = worker.next('job:completed');
    const m = producerClient.multi();
    const id = await producer.enqueue(m, ping({}));
    await m.exec();
    const started = performance.now();
    expect((await completed).job.id).toBe(id);
    expect(performance.now() - started).toBeLessThan(5_000);
    const keys = await admin.keys(`*${table}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(keyPrefix))).toEqual([]);
  });
});
