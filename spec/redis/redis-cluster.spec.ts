/**
 * Concordia on a real Redis Cluster (three masters started by spec/support/redis-cluster.ts,
 * password-protected as production clusters are), through ioredis's `Cluster` client.
 *
 * What it shows: every key of one table shares the hash tag `{table}`, so each Lua script and
 * each MULTI touches one slot; the user's own writes in that MULTI must carry the same tag
 * (a MULTI over two slots is refused, and writes nothing); tables with other tags live on other
 * shards and work side by side; the wake-up subscription works on a cluster.
 *
 * Without /usr/bin/redis-server (and redis-cli) the suite is skipped, except in CI, where it fails.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { createJobs, defineJob, silentLogger, type AnyJobDefinition, type Jobs, type Worker, type WorkOptions } from '../../lib/index.ts';
import { canStartCluster, REDIS_SERVER, startRedisCluster, type TestCluster } from '../support/redis-cluster.ts';
import { clusterMap, type ClusterMap } from './cluster-map.ts';

if (!canStartCluster && process.env['CI']) throw new Error(`${REDIS_SERVER} (or redis-cli) is missing: CI must run the Redis Cluster tests.`);

const PASSWORD = 'concordia-cluster-test';
const fast: WorkOptions = { pollIntervalMs: 20, logger: silentLogger };

/** Resolves after `n` completions seen by any of `workers`, with the ids in the order they came. */
function completions(workers: Worker[], n: number): Promise<string[]> {
  return new Promise((resolve) => {
    const ids: string[] = [];
    const offs = workers.map((w) =>
      w.on('job:completed', ({ job }) => {
        ids.push(job.id);
        if (ids.length === n) {
          offs.forEach((off) => off());
          resolve(ids);
        }
      }),
    );
  });
}

describe.skipIf(!canStartCluster)('Redis Cluster (ioredis Cluster client)', { timeout: 30_000 }, () => {
  let cluster: TestCluster;
  let map: ClusterMap;
  /** Clients the tests open; all closed in afterAll. */
  const clients: Cluster[] = [];
  const workers: Worker[] = [];
  /** A reader for checks, apart from the clients under test. */
  let outside: Cluster;

  const connect = (): Cluster => {
    const c = new Cluster(cluster.nodes, { redisOptions: { password: PASSWORD } });
    clients.push(c);
    return c;
  };
  const jobsOn = (client: Cluster, defs: AnyJobDefinition[], table?: string): Jobs<ReturnType<Cluster['multi']>> =>
    createJobs({ adapter: ioredisAdapter(client), jobs: defs, ...(table === undefined ? {} : { table }) });
  const work = async (jobs: Jobs<unknown>, options: WorkOptions): Promise<Worker> => {
    const w = await jobs.work({ ...fast, ...options });
    workers.push(w);
    return w;
  };
  const job = (table: string, id: string): Promise<Record<string, string>> => outside.hgetall(`{${table}}:job:${id}`);

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD });
    outside = connect();
    map = await clusterMap(outside);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    for (const c of clients) c.disconnect();
    await cluster?.stop();
  });

  it('jobs enqueued in a MULTI with a write under the same hash tag commit together, and two workers run each exactly once', async () => {
    const runs = new Map<string, number>();
    const receipt = defineJob('cluster_receipt', {
      handler: async (_a: { order: number }, ctx) => void runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1),
    });
    const producer = connect();
    const jobs = jobsOn(producer, [receipt]);
    const ids: string[] = [];
    for (let order = 1; order <= 30; order++) {
      const m = producer.multi();
      // The README's rule: your keys in the MULTI carry the table's tag, so they share its slot.
      m.hset(`{concordia_jobs}:order:${order}`, { total: '42.00', status: 'paid' });
      ids.push(await jobs.enqueue(m, receipt({ order }), { queue: 'cluster_receipts' }));
      const results = await m.exec();
      expect(results?.every(([error]) => error === null)).toBe(true);
    }
    expect(await outside.hget('{concordia_jobs}:order:30', 'status')).toBe('paid');
    // Two workers on clients of their own, as two processes would be, race for the same jobs.
    const a = jobsOn(connect(), [receipt]);
    const b = jobsOn(connect(), [receipt]);
    const w1 = a.createWorker({ ...fast, queues: ['cluster_receipts'], concurrency: 4 });
    const w2 = b.createWorker({ ...fast, queues: ['cluster_receipts'], concurrency: 4 });
    workers.push(w1, w2);
    const done = completions([w1, w2], ids.length);
    await Promise.all([w1.start(), w2.start()]);
    expect(new Set(await done)).toEqual(new Set(ids));
    expect([...runs.keys()].sort()).toEqual([...ids].sort());
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    for (const id of ids) expect(await job('concordia_jobs', id)).toMatchObject({ state: 'completed', attempt: '1' });
  });

  it('a MULTI whose own key is in another slot is refused, and neither the job nor the write lands', async () => {
    const kind = defineJob('cluster_refused', { handler: async () => {} });
    const client = connect();
    const jobs = jobsOn(client, [kind]);
    const tableSlot = await map.slotOf('{concordia_jobs}');
    // One key on another shard (ioredis refuses before sending) and one on the same shard but in
    // another slot (Redis refuses at EXEC): both are the user's mistake of a key without the tag.
    const elsewhere = await map.keyWhere('order:', (slot) => map.nodeOf(slot) !== map.nodeOf(tableSlot));
    const sameNode = await map.keyWhere('order:', (slot) => slot !== tableSlot && map.nodeOf(slot) === map.nodeOf(tableSlot));
    for (const key of [elsewhere, sameNode]) {
      const before = await outside.zcard('{concordia_jobs}:ids');
      const m = client.multi();
      m.hset(key, { total: '42.00' });
      const id = await jobs.enqueue(m, kind({}), { queue: 'cluster_refused' });
      await expect(m.exec()).rejects.toThrow(/CROSSSLOT|same slot/);
      expect(await outside.exists(key)).toBe(0);
      expect(await outside.exists(`{concordia_jobs}:job:${id}`)).toBe(0);
      expect(await outside.zcard('{concordia_jobs}:ids')).toBe(before);
    }
  });

  it('a scheduled job waits until it is due, then runs', async () => {
    let ranAt = 0;
    const later = defineJob('cluster_later', { handler: async () => void (ranAt = Date.now()) });
    const jobs = jobsOn(connect(), [later]);
    const runAt = new Date(Date.now() + 1_000);
    const id = await jobs.enqueueAutocommit(later({}), { queue: 'cluster_later', runAt });
    expect(await outside.zscore('{concordia_jobs}:scheduled', id)).toBe(String(runAt.getTime()));
    const w = await work(jobs, { queues: ['cluster_later'] });
    await w.next('job:completed', ({ job: j }) => j.id === id);
    // Not a timing assertion: the handler must never start before the job's run time.
    expect(ranAt).toBeGreaterThanOrEqual(runAt.getTime());
    expect(await job('concordia_jobs', id)).toMatchObject({ state: 'completed' });
  });

  it('a paused queue is not claimed until it is resumed', async () => {
    const ran: string[] = [];
    const q = defineJob('cluster_pausable', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
    const jobs = jobsOn(connect(), [q]);
    // The pause comes from another client, as from another process: only Redis carries it.
    const other = jobsOn(connect(), [q]);
    expect(await other.pauseQueue('cluster_paused')).toBe(true);
    const w = jobs.createWorker({ ...fast, queues: ['cluster_paused', 'cluster_open'], pauseCheckMs: 0 });
    workers.push(w);
    await w.start();
    const openDone = w.next('job:completed');
    await jobs.enqueueAutocommit(q({ tag: 'held' }), { queue: 'cluster_paused' });
    await jobs.enqueueAutocommit(q({ tag: 'free' }), { queue: 'cluster_open' });
    await openDone;
    // A full claim round after the open queue's job: the paused one still waits.
    const idle = w.next('idle');
    w.wake();
    await idle;
    expect(ran).toEqual(['free']);
    const resumed = w.next('job:completed');
    expect(await other.resumeQueue('cluster_paused')).toBe(true);
    w.wake();
    await resumed;
    expect(ran).toEqual(['free', 'held']);
  });

  it('a unique job stays unique across concurrent MULTIs and autocommit calls', async () => {
    const sync = defineJob('cluster_unique', { handler: async () => {} });
    const c1 = connect();
    const c2 = connect();
    const j1 = jobsOn(c1, [sync]);
    const j2 = jobsOn(c2, [sync]);
    const opts = { queue: 'cluster_unique', unique: {} };
    const m1 = c1.multi();
    const first = await j1.enqueueUnique(m1, sync({ user: 1 }), opts);
    expect(first.inserted).toBe(true);
    // The second MULTI (another connection) waits on the first's reservation until its EXEC.
    const m2 = c2.multi();
    const second = j2.enqueueUnique(m2, sync({ user: 1 }), opts);
    await m1.exec();
    expect(await second).toEqual({ inserted: false, id: first.id });
    await m2.exec();
    expect(await j2.enqueueUniqueAutocommit(sync({ user: 1 }), opts)).toEqual({ inserted: false, id: first.id });
    const kinds = await Promise.all((await outside.zrangebylex('{concordia_jobs}:ids', '-', '+')).map(async (id) => (await job('concordia_jobs', id))['kind']));
    expect(kinds.filter((k) => k === 'cluster_unique')).toHaveLength(1);
  });

  it('two tables with other hash tags live on different shards, and both work', async () => {
    const [tableA, tableB] = await map.tablesOnDifferentNodes('cluster_t');
    const portA = map.nodeOf(await map.slotOf(`{${tableA}}`));
    const portB = map.nodeOf(await map.slotOf(`{${tableB}}`));
    expect(portA).not.toBe(portB);
    const seen: string[] = [];
    const echo = defineJob('cluster_echo', { handler: async (a: { table: string }) => void seen.push(a.table) });
    const client = connect();
    const a = jobsOn(client, [echo], tableA);
    const b = jobsOn(client, [echo], tableB);
    const ma = client.multi();
    ma.set(`{${tableA}}:marker`, 'a');
    const idA = await a.enqueue(ma, echo({ table: tableA }));
    await ma.exec();
    const mb = client.multi();
    mb.set(`{${tableB}}:marker`, 'b');
    const idB = await b.enqueue(mb, echo({ table: tableB }));
    await mb.exec();
    // Each node holds its own table's keys and none of the other's.
    expect(await cluster.cli(portA, 'EXISTS', `{${tableA}}:job:${idA}`)).toBe('1\n');
    expect(await cluster.cli(portA, 'EXISTS', `{${tableB}}:job:${idB}`)).not.toBe('1\n');
    expect(await cluster.cli(portB, 'EXISTS', `{${tableB}}:job:${idB}`)).toBe('1\n');
    const wa = await work(a, {});
    const wb = await work(b, {});
    await Promise.all([wa.next('job:completed', ({ job: j }) => j.id === idA), wb.next('job:completed', ({ job: j }) => j.id === idB)]);
    expect(seen.sort()).toEqual([tableA, tableB].sort());
    expect(await job(tableA, idA)).toMatchObject({ state: 'completed' });
    expect(await job(tableB, idB)).toMatchObject({ state: 'completed' });
  });

  it('an idle worker is woken through the cluster subscription by an enqueue from another client', async () => {
    const ping = defineJob('cluster_wake', { handler: async () => {} });
    const table = 'cluster_wake';
    // An hour between polls: only the wake-up can start the job within the test.
    const w = jobsOn(connect(), [ping], table).createWorker({ ...fast, pollIntervalMs: 3_600_000 });
    workers.push(w);
    const listening = w.next('listening');
    await w.start();
    await listening;
    // The worker looks once after subscribing; let that claim pass first, or it could take the job.
    await w.drained();
    const subscribers = (await Promise.all(cluster.nodes.map((n) => cluster.cli(n.port, 'CLIENT', 'LIST', 'TYPE', 'pubsub')))).join('');
    expect(subscribers).toContain(`concordia:listen:{${table}}:wake`);
    const completed = w.next('job:completed');
    // Another client, so this process's own enqueue hook cannot wake the worker.
    const id = await jobsOn(connect(), [ping], table).enqueueAutocommit(ping({}));
    expect((await completed).job.id).toBe(id);
  });
});
