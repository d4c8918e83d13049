/**
 * Concordia on Redis: drain, enqueue inside the application's MULTI, and enqueue→start latency,
 * through the ioredis adapter (`client: 'ioredis'`, the default) or node-redis (`client: 'redis'`).
 * Every key lives under the run's own prefix (`{bench_<tag>}`), deleted afterwards.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { redisAdapter, type NodeRedisClient, type NodeRedisMulti } from '../../adapters/redis/redis-adapter.ts';
import { redisPrefix } from '../../lib/backends/redis/redis-backend.ts';
import { createJobs, defineJob, type Adapter, type Jobs, type WorkOptions } from '../../lib/index.ts';
import { fromReturn, jitter, latencyResult, Meter, rateResult, REDIS_URL, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

/** One client setup: the adapter, a MULTI the way an application opens one, and a side connection for counting. */
interface Setup {
  adapter: Adapter<unknown>;
  /** Opens the application's MULTI, with one write of its own (the order row the job belongs to). */
  multi(key: string): { tx: unknown; exec(): Promise<unknown> };
  close(): Promise<void>;
}

async function setup(spec: CaseSpec): Promise<Setup> {
  if (spec.opts['client'] === 'redis') {
    const client = (await createClient({ url: REDIS_URL }).connect()) as unknown as NodeRedisClient & { close(): Promise<void> };
    return {
      adapter: redisAdapter(client) as Adapter<unknown>,
      multi(key) {
        const m = client.multi() as NodeRedisMulti & { set(key: string, value: string): unknown };
        m.set(key, '1');
        return { tx: m, exec: () => m.exec() };
      },
      close: () => client.close(),
    };
  }
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  return {
    adapter: ioredisAdapter(client) as Adapter<unknown>,
    multi(key) {
      const m = client.multi();
      m.set(key, '1');
      return { tx: m, exec: () => m.exec() };
    },
    close: async () => void (await client.quit()),
  };
}

function workOptions(spec: CaseSpec): WorkOptions {
  const o: WorkOptions = { logger: { warn: console.warn, error: console.error } };
  if (spec.opts['concurrency'] !== undefined) o.concurrency = Number(spec.opts['concurrency']);
  if (spec.opts['prefetch'] !== undefined) o.prefetch = Number(spec.opts['prefetch']);
  if (spec.opts['listen'] !== undefined) o.listen = Boolean(spec.opts['listen']);
  return o;
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const side = new Redis(REDIS_URL);
  const s = await setup(spec);
  try {
    if (spec.scenario === 'drain') return await drain(spec, s, side, table);
    if (spec.scenario === 'enqueue') return await enqueue(spec, s, side, table);
    return await latency(spec, s, table);
  } finally {
    await s.close().catch(() => {});
    await deletePrefix(side, table);
    side.disconnect();
  }
}

/** Deletes every key of a run: the jobs table's (hash-tagged) and the application's own. */
export async function deletePrefix(redis: Redis, table: string): Promise<void> {
  for (const pattern of [`${redisPrefix(table)}:*`, `${table}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

/** Jobs in a state, as the store's own index counts them. */
function countState(redis: Redis, table: string, state: string): Promise<number> {
  return redis.zcard(`${redisPrefix(table)}:state:${state}`);
}

async function drain(spec: CaseSpec, s: Setup, side: Redis, table: string): Promise<CaseResult> {
  let handled = 0;
  const noop = defineJob('noop', {
    handler: (_args: { i: number }) => {
      handled++;
    },
  });
  const jobs = createJobs({ adapter: s.adapter, jobs: [noop], table });
  // Pre-insert outside the measured phase, 5,000 per script call.
  for (let i = 0; i < spec.n; i += 5000) {
    const chunk = Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => noop({ i: i + k }));
    await jobs.enqueueManyAutocommit(chunk);
  }
  let completedEvents = 0;
  const meter = new Meter();
  meter.start();
  const worker = jobs.createWorker(workOptions(spec));
  worker.on('job:completed', () => {
    completedEvents++;
  });
  await worker.start();
  const deadline = performance.now() + spec.capSeconds * 1000;
  // 'job:completed' fires after the completion script returned: the store already says so.
  const done = await waitDrained(spec.n, () => completedEvents, () => countState(side, table, 'completed'), deadline);
  const m = meter.stop();
  await worker.stop();
  return rateResult(spec.n, done, m, { handled });
}

/**
 * Enqueue throughput inside the application's MULTI, next to one write of its own. mode
 * `single`: one job per MULTI, `concurrency` lanes; mode `batch`: `batch` jobs per MULTI.
 */
async function enqueue(spec: CaseSpec, s: Setup, side: Redis, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const jobs = createJobs({ adapter: s.adapter, jobs: [noop], table }) as Jobs<unknown>;
  const inMulti = async (key: string, fn: (tx: unknown) => Promise<unknown>): Promise<void> => {
    const m = s.multi(`${table}:order:${key}`);
    await fn(m.tx);
    await m.exec();
  };
  // Warm the connection and the script path outside the measurement.
  await inMulti('warm', (tx) => jobs.enqueue(tx, noop({ i: -1 })));
  const meter = new Meter();
  meter.start();
  if (spec.opts['mode'] === 'batch') {
    const batch = Number(spec.opts['batch']);
    for (let i = 0; i < spec.n; i += batch) {
      const chunk = Array.from({ length: Math.min(batch, spec.n - i) }, (_, k) => noop({ i: i + k }));
      await inMulti(String(i), (tx) => jobs.enqueueMany(tx, chunk));
    }
  } else {
    const lanes = Number(spec.opts['concurrency'] ?? 1);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < spec.n) {
        const i = next++;
        await inMulti(String(i), (tx) => jobs.enqueue(tx, noop({ i })));
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  }
  const m = meter.stop();
  const stored = (await countState(side, table, 'available')) - 1;
  if (stored !== spec.n) throw new Error(`enqueue: expected ${spec.n} jobs, found ${stored}`);
  return rateResult(spec.n, stored, m);
}

/**
 * Enqueue→start latency with an idle worker in the same process (one clock for both ends): the
 * clock starts as the application sends EXEC, and "from return" as EXEC's reply arrives.
 */
async function latency(spec: CaseSpec, s: Setup, table: string): Promise<CaseResult> {
  const committedAt = new Map<number, number>();
  const returnedAt = new Map<number, number>();
  const startedAt = new Map<number, number>();
  const delays: number[] = [];
  const probe = defineJob('probe', {
    handler: (args: { i: number }) => {
      const now = performance.now();
      startedAt.set(args.i, now);
      const t = committedAt.get(args.i);
      if (t !== undefined) delays.push(now - t);
    },
  });
  const jobs = createJobs({ adapter: s.adapter, jobs: [probe], table }) as Jobs<unknown>;
  const worker = await jobs.work(workOptions(spec));
  const meter = new Meter();
  meter.start();
  const execs: number[] = [];
  for (let i = 0; i < spec.n; i++) {
    const m = s.multi(`${table}:order:${i}`);
    await jobs.enqueue(m.tx, probe({ i }));
    const issued = performance.now();
    committedAt.set(i, issued);
    await m.exec();
    const returned = performance.now();
    returnedAt.set(i, returned);
    execs.push(returned - issued);
    await jitter(5, 25);
  }
  const deadline = performance.now() + spec.capSeconds * 1000;
  while (delays.length < spec.n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const m = meter.stop();
  await worker.stop();
  return latencyResult(delays, m, spec.n, execs, fromReturn(startedAt, returnedAt));
}
