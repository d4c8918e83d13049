/**
 * A hand-written Redis queue loop: the ceiling for a drain on this server, with none of a
 * queue's bookkeeping. Jobs are hashes plus one list of ready ids; each lane claims `batch` ids
 * with one Lua call (LPOP count, mark each running with a lease token, return its args) and
 * completes them with another (mark completed, count). No priorities, scheduling, state indexes,
 * counts per queue or lease fence: what is left is the per-job hash writes and the round trips.
 * All lanes share one connection, as Concordia's worker does.
 */
import { Redis } from 'ioredis';
import { Meter, rateResult, REDIS_URL, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';
import { deletePrefix } from './concordia-redis.ts';

const CLAIM = `
local ids = redis.call('LPOP', KEYS[1] .. ':ready', tonumber(ARGV[1]))
if not ids then return {} end
local out = {}
for i, id in ipairs(ids) do
  local k = KEYS[1] .. ':job:' .. id
  redis.call('HSET', k, 'state', 'running', 'token', ARGV[2])
  out[i] = { id, redis.call('HGET', k, 'args') }
end
return out
`;

const COMPLETE = `
for i = 1, #ARGV do redis.call('HSET', KEYS[1] .. ':job:' .. ARGV[i], 'state', 'completed') end
return redis.call('INCRBY', KEYS[1] .. ':done', #ARGV)
`;

type RawRedis = Redis & {
  rawClaim(key: string, batch: number, token: string): Promise<[string, string][]>;
  rawComplete(key: string, ...ids: string[]): Promise<number>;
};

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const key = `{${table}}`;
  const redis = new Redis(REDIS_URL) as RawRedis;
  redis.defineCommand('rawClaim', { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand('rawComplete', { numberOfKeys: 1, lua: COMPLETE });
  try {
    for (let i = 0; i < spec.n; i += 5000) {
      const p = redis.pipeline();
      const ids: string[] = [];
      for (let k = i; k < Math.min(i + 5000, spec.n); k++) {
        p.hset(`${key}:job:${k}`, 'state', 'available', 'args', JSON.stringify({ i: k }));
        ids.push(String(k));
      }
      p.rpush(`${key}:ready`, ...ids);
      await p.exec();
    }
    const lanes = Number(spec.opts['lanes']);
    const batch = Number(spec.opts['batch']);
    let handled = 0;
    const meter = new Meter();
    meter.start();
    const deadline = performance.now() + spec.capSeconds * 1000;
    const lane = async (n: number): Promise<void> => {
      while (performance.now() < deadline) {
        const got = await redis.rawClaim(key, batch, `lane-${n}`);
        if (got.length === 0) return;
        for (const [, args] of got) {
          JSON.parse(args);
          handled++;
        }
        await redis.rawComplete(key, ...got.map(([id]) => id));
      }
    };
    await Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)));
    const done = await waitDrained(spec.n, () => handled, async () => Number((await redis.get(`${key}:done`)) ?? 0), deadline);
    return rateResult(spec.n, done, meter.stop());
  } finally {
    await deletePrefix(redis, table);
    redis.disconnect();
  }
}
