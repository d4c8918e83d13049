/**
 * Redis durability check (issue 15): verify() reads the server's persistence settings and warns,
 * refuses (durability: 'require') or stays quiet (durability: 'ignore'). The machine's Redis is
 * changed with CONFIG SET inside a test and put back after it; the settings touched only change
 * what other files' workers warn about (this server has no maxmemory, so no policy evicts here).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { redisAdapter, type NodeRedisClient } from '../../adapters/redis/redis-adapter.ts';
import { durabilityRisks } from '../../lib/backends/redis/redis-durability.ts';
import { createJobs, DurabilityError, defineJob } from '../../lib/index.ts';
import { REDIS_URL } from '../support/redis-harness.ts';

const noop = defineJob('durability_noop', { handler: async () => {} });
const SETTINGS = ['appendonly', 'appendfsync', 'maxmemory-policy', 'save'] as const;

let admin: Redis;
let saved: Map<string, string>;
const table = `cj_dur_${randomBytes(4).toString('hex')}`;

async function set(name: (typeof SETTINGS)[number], value: string): Promise<void> {
  await admin.config('SET', name, value);
}

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  saved = new Map();
  for (const name of SETTINGS) {
    const [, value] = (await admin.config('GET', name)) as [string, string];
    saved.set(name, value);
  }
});

afterEach(async () => {
  for (const name of ['maxmemory-policy', 'save'] as const) await set(name, saved.get(name)!);
});

afterAll(async () => {
  admin.disconnect();
});

describe('durabilityRisks (the settings → warnings rule)', () => {
  const safe = { appendonly: 'yes', appendfsync: 'everysec', maxmemoryPolicy: 'noeviction', save: '' };
  it('AOF with everysec and noeviction is safe; each risky setting is named', () => {
    expect(durabilityRisks(safe)).toEqual([]);
    expect(durabilityRisks({ ...safe, appendfsync: 'always', save: '3600 1' })).toEqual([]);
    expect(durabilityRisks({ ...safe, maxmemoryPolicy: 'allkeys-lru' })).toEqual([expect.stringContaining("maxmemory-policy is 'allkeys-lru'")]);
    expect(durabilityRisks({ ...safe, maxmemoryPolicy: 'volatile-ttl' })).toHaveLength(1);
    expect(durabilityRisks({ ...safe, appendfsync: 'no' })).toEqual([expect.stringContaining("appendfsync is 'no'")]);
    expect(durabilityRisks({ ...safe, appendonly: 'no' })).toEqual([expect.stringContaining('keeps nothing on disk')]);
    expect(durabilityRisks({ ...safe, appendonly: 'no', save: '3600 1 300 100' })).toEqual([expect.stringContaining('only RDB snapshots')]);
    expect(durabilityRisks({ appendonly: 'no', appendfsync: 'no', maxmemoryPolicy: 'allkeys-random', save: '' })).toHaveLength(2);
  });
});

describe('verify() on the machine\'s Redis (ioredis)', () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(REDIS_URL);
  });
  afterAll(() => client.disconnect());

  it('warns that nothing is kept on disk, and names eviction once the policy evicts', async () => {
    await set('save', '');
    const jobs = createJobs({ adapter: ioredisAdapter(client), table, jobs: [noop] });
    expect(await jobs.verify()).toEqual([expect.stringContaining('keeps nothing on disk')]);
    await set('maxmemory-policy', 'allkeys-lru');
    const warnings = await jobs.verify();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("maxmemory-policy is 'allkeys-lru'");
    await set('maxmemory-policy', 'noeviction');
    await set('save', '3600 1');
    expect(await jobs.verify()).toEqual([expect.stringContaining('only RDB snapshots')]);
  });

  it("a worker logs each warning once when it starts; 'require' refuses to start with a DurabilityError", async () => {
    await set('save', '');
    const logged: string[] = [];
    const logger = { debug() {}, info() {}, warn: (message: string) => void logged.push(message), error() {} };
    const jobs = createJobs({ adapter: ioredisAdapter(client), table, jobs: [noop], logger } as never);
    const worker = jobs.createWorker({ logger } as never);
    await worker.start();
    await worker.stop();
    expect(logged.filter((m) => m.includes('keeps nothing on disk'))).toHaveLength(1);

    const strict = createJobs({ adapter: ioredisAdapter(client, { durability: 'require' }), table, jobs: [noop] });
    const refused = await strict.createWorker().start().then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(DurabilityError);
    expect((refused as DurabilityError).code).toBe('NOT_DURABLE');
    expect((refused as DurabilityError).risks).toEqual([expect.stringContaining('keeps nothing on disk')]);
  });

  it("'ignore' skips the check", async () => {
    await set('save', '');
    await set('maxmemory-policy', 'allkeys-lru');
    const jobs = createJobs({ adapter: ioredisAdapter(client, { durability: 'ignore' }), table, jobs: [noop] });
    expect(await jobs.verify()).toEqual([]);
  });

  it('a user without CONFIG gets one warning saying the check was skipped, in every mode, and no failure', async () => {
    const user = `concordia_noconfig_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-config');
    const limited = new Redis(REDIS_URL, { username: user, password });
    try {
      for (const durability of ['warn', 'require'] as const) {
        const jobs = createJobs({ adapter: ioredisAdapter(limited, { durability }), table, jobs: [noop] });
        const warnings = await jobs.verify();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/could not read the Redis persistence settings \(NOPERM/);
      }
    } finally {
      limited.disconnect();
      await admin.call('ACL', 'DELUSER', user);
    }
  });
});

describe('verify() through node-redis', () => {
  let client: NodeRedisClient;
  beforeAll(async () => {
    client = createClient({ url: REDIS_URL }) as unknown as NodeRedisClient;
    await (client as unknown as { connect(): Promise<unknown> }).connect();
  });
  afterAll(async () => {
    await (client as unknown as { quit(): Promise<unknown> }).quit();
  });

  it('reads the same settings (its CONFIG GET reply has another shape) and refuses in require mode', async () => {
    await set('save', '');
    await set('maxmemory-policy', 'allkeys-lfu');
    const jobs = createJobs({ adapter: redisAdapter(client), table, jobs: [noop] });
    const warnings = await jobs.verify();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("'allkeys-lfu'");
    const strict = createJobs({ adapter: redisAdapter(client, { durability: 'require' }), table, jobs: [noop] });
    await expect(strict.verify()).rejects.toThrow(DurabilityError);
  });
});
