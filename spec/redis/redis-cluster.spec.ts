/**
 * Concordia on a real Redis Cluster (three masters started by spec/support/redis-cluster.ts,
 * password-protected as production clusters are), through ioredis's `Cluster` and node-redis's
 * `createCluster()`: the same tests for both (spec/redis/cluster-clients.ts).
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
import { createJobs, defineJob, silentLogger, type AnyJobDefinition, type Jobs, type Worker, type WorkOptions } from '../../lib/index.ts';
import { canStartCluster, REDIS_SERVER, startRedisCluster, type TestCluster } from '../support/redis-cluster.ts';
import { ioredisKit, nodeRedisKit, type ClusterClientKit } from './cluster-clients.ts';
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

describe.skipIf(!canStartCluster)('Redis Cluster', { timeout: 30_000 }, () => {
  let cluster: TestCluster;
  let map: ClusterMap;
  /** A reader for checks, apart from the clients under test (always ioredis: the checks are the same for both). */
  let outside: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD });
    outside = new Cluster(cluster.nodes, { redisOptions: { password: PASSWORD } });
    map = await clusterMap(outside);
  }, 30_000);

  afterAll(async () => {
    outside?.disconnect();
    await cluster?.stop();
  });

  const job = (table: string, id: string): Promise<Record<string, string>> => outside.hgetall(`{${table}}:job:${id}`);

  // Each client has tables of its own (the ioredis run uses the default one, as the README does).
  const suites: [string, string, (nodes: TestCluster['nodes']) => ClusterClientKit][] = [
    ['ioredis', 'concordia_jobs', (nodes) => ioredisKit(nodes, PASSWORD)],
    ['node-redis', 'nr_jobs', (nodes) => nodeRedisKit(nodes, PASSWORD)],
  ];

  describe.each(suites)('%s cluster client', (_name, table, makeKit) => {
    let kit: ClusterClientKit;
    const clients: object[] = [];
    const workers: Worker[] = [];

    beforeAll(() => {
      kit = makeKit(cluster.nodes);
    });

    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(clients.map((c) => kit.close(c)));
    });

    const connect = async (): Promise<object> => {
      const c = await kit.connect();
      clients.push(c);
      return c;
    };
    const jobsOn = (client: object, defs: AnyJobDefinition[], on = table): Jobs<unknown> => createJobs({ adapter: kit.adapter(client), jobs: defs, table: on });

    it('jobs enqueued in a MULTI with a write under the same hash tag commit together, and two workers run each exactly once', async () => {
      const runs = new Map<string, number>();
      const receipt = defineJob('cluster_receipt', {
        handler: async (_a: { order: number }, ctx) => void runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1),
      });
      const producer = await connect();
      const jobs = jobsOn(producer, [receipt]);
      const ids: string[] = [];
      for (let order = 1; order <= 30; order++) {
        const m = kit.multi(producer);
        // The README's rule: your keys in the MULTI carry the table's tag, so they share its slot.
        kit.hset(m, `{${table}}:order:${order}`, { total: '42.00', status: 'paid' });
        ids.push(await jobs.enqueue(m, receipt({ order }), { queue: 'cluster_receipts' }));
        await kit.exec(m);
      }
      expect(await outside.hget(`{${table}}:order:30`, 'status')).toBe('paid');
      // Two workers on clients of their own, as two processes would be, race for the same jobs.
      const [w1, w2] = [jobsOn(await connect(), [receipt]), jobsOn(await connect(), [receipt])].map((j) => j.createWorker({ ...fast, queues: ['cluster_receipts'], concurrency: 4 })) as [Worker, Worker];
      workers.push(w1, w2);
      const done = completions([w1, w2], ids.length);
      await Promise.all([w1.start(), w2.start()]);
      expect(new Set(await done)).toEqual(new Set(ids));
      expect([...runs.keys()].sort()).toEqual([...ids].sort());
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      for (const id of ids) expect(await job(table, id)).toMatchObject({ state: 'completed', attempt: '1' });
    });

    it('a MULTI whose own key is in another slot is refused, and neither the job nor the write lands', async () => {
      const kind = defineJob('cluster_refused', { handler: async () => {} });
      const client = await connect();
      const jobs = jobsOn(client, [kind]);
      const tableSlot = await map.slotOf(`{${table}}`);
      // The user's mistake of a key without the tag, twice: on another shard (refused by ioredis
      // before sending, by Redis with MOVED for node-redis) and on the same shard but in another
      // slot (refused by Redis with CROSSSLOT).
      const elsewhere = await map.keyWhere('order:', (slot) => map.nodeOf(slot) !== map.nodeOf(tableSlot));
      const sameNode = await map.keyWhere('order:', (slot) => slot !== tableSlot && map.nodeOf(slot) === map.nodeOf(tableSlot));
      for (const key of [elsewhere, sameNode]) {
        const before = await outside.zcard(`{${table}}:ids`);
        const m = kit.multi(client);
        kit.hset(m, key, { total: '42.00' });
        const id = await jobs.enqueue(m, kind({}), { queue: 'cluster_refused' });
        await expect(kit.exec(m)).rejects.toThrow(/CROSSSLOT|same slot|MOVED/);
        expect(await outside.exists(key)).toBe(0);
        expect(await outside.exists(`{${table}}:job:${id}`)).toBe(0);
        expect(await outside.zcard(`{${table}}:ids`)).toBe(before);
      }
    });

    it('a scheduled job waits until it is due, then runs', async () => {
      let ranAt = 0;
      const later = defineJob('cluster_later', { handler: async () => void (ranAt = Date.now()) });
      const jobs = jobsOn(await connect(), [later]);
      const runAt = new Date(Date.now() + 1_000);
      const id = await jobs.enqueueAutocommit(later({}), { queue: 'cluster_later', runAt });
      expect(await outside.zscore(`{${table}}:scheduled`, id)).toBe(String(runAt.getTime()));
      const w = jobs.createWorker({ ...fast, queues: ['cluster_later'] });
      workers.push(w);
      const done = w.next('job:completed', ({ job: j }) => j.id === id);
      await w.start();
      await done;
      // Not a timing assertion: the handler must never start before the job's run time.
      expect(ranAt).toBeGreaterThanOrEqual(runAt.getTime());
      expect(await job(table, id)).toMatchObject({ state: 'completed' });
    });

    it('a paused queue is not claimed until it is resumed', async () => {
      const ran: string[] = [];
      const q = defineJob('cluster_pausable', { handler: async (a: { tag: string }) => void ran.push(a.tag) });
      const jobs = jobsOn(await connect(), [q]);
      // The pause comes from another client, as from another process: only Redis carries it.
      const other = jobsOn(await connect(), [q]);
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
      const [c1, c2] = [await connect(), await connect()];
      const [j1, j2] = [jobsOn(c1, [sync]), jobsOn(c2, [sync])];
      const opts = { queue: 'cluster_unique', unique: {} };
      const m1 = kit.multi(c1);
      const first = await j1.enqueueUnique(m1, sync({ user: 1 }), opts);
      expect(first.inserted).toBe(true);
      // The second MULTI (another connection) waits on the first's reservation until its EXEC.
      const m2 = kit.multi(c2);
      const second = j2.enqueueUnique(m2, sync({ user: 1 }), opts);
      await kit.exec(m1);
      expect(await second).toEqual({ inserted: false, id: first.id });
      await kit.exec(m2);
      expect(await j2.enqueueUniqueAutocommit(sync({ user: 1 }), opts)).toEqual({ inserted: false, id: first.id });
      const kinds = await Promise.all((await outside.zrangebylex(`{${table}}:ids`, '-', '+')).map(async (id) => (await job(table, id))['kind']));
      expect(kinds.filter((k) => k === 'cluster_unique')).toHaveLength(1);
    });

    it('two tables with other hash tags live on different shards, and both work', async () => {
      const [tableA, tableB] = await map.tablesOnDifferentNodes(`${table}_t`);
      const portA = map.nodeOf(await map.slotOf(`{${tableA}}`));
      const portB = map.nodeOf(await map.slotOf(`{${tableB}}`));
      expect(portA).not.toBe(portB);
      const seen: string[] = [];
      const echo = defineJob('cluster_echo', { handler: async (a: { table: string }) => void seen.push(a.table) });
      const client = await connect();
      const ids: string[] = [];
      for (const t of [tableA, tableB]) {
        const m = kit.multi(client);
        kit.hset(m, `{${t}}:marker`, { table: t });
        ids.push(await jobsOn(client, [echo], t).enqueue(m, echo({ table: t })));
        await kit.exec(m);
      }
      const [idA, idB] = ids as [string, string];
      // Each node holds its own table's keys and not the other's.
      expect(await cluster.cli(portA, 'EXISTS', `{${tableA}}:job:${idA}`)).toBe('1\n');
      expect(await cluster.cli(portA, 'EXISTS', `{${tableB}}:job:${idB}`)).not.toBe('1\n');
      expect(await cluster.cli(portB, 'EXISTS', `{${tableB}}:job:${idB}`)).toBe('1\n');
      const [wa, wb] = [tableA, tableB].map((t) => jobsOn(client, [echo], t).createWorker(fast)) as [Worker, Worker];
      workers.push(wa, wb);
      // Listened for before the workers start: a worker may finish its job before start() resolves.
      const done = Promise.all([wa.next('job:completed', ({ job: j }) => j.id === idA), wb.next('job:completed', ({ job: j }) => j.id === idB)]);
      await Promise.all([wa.start(), wb.start()]);
      await done;
      expect(seen.sort()).toEqual([tableA, tableB].sort());
      expect(await job(tableA, idA)).toMatchObject({ state: 'completed' });
      expect(await job(tableB, idB)).toMatchObject({ state: 'completed' });
    });

    it('the reads and actions of the dashboard and CLI work on the cluster', async () => {
      const listed = defineJob('cluster_listed', { handler: async () => {} });
      const client = await connect();
      const jobs = jobsOn(client, [listed]);
      // The durability check reads the node's settings through the cluster client: this cluster
      // keeps nothing on disk, so it warns, and never says it could not read them.
      const warnings = await jobs.verify();
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.filter((w) => w.startsWith('could not read'))).toEqual([]);
      const ids = await jobs.enqueueManyAutocommit([1, 2, 3].map((n) => listed({ n })), { queue: 'cluster_inspect' });
      const adapter = kit.adapter(client);
      const backend = adapter.backend({ table });
      const session = adapter.autocommit();
      expect(await backend.countJobs(session)).toContainEqual({ queue: 'cluster_inspect', state: 'available', count: 3 });
      const page = await backend.searchJobs(session, { filter: { queues: ['cluster_inspect'], args: [{ path: ['n'], value: 2 }] } });
      expect(page.jobs.map((j) => j.id)).toEqual([ids[1]]);
      expect(await backend.jobDetail(session, ids[0]!)).toMatchObject({ id: ids[0], state: 'available', args: '{"n":1}' });
      expect(await backend.applyAction(jobs.dispatcherDb(), 'cancel', { ids: [ids[2]!] }, null)).toEqual([ids[2]]);
      expect(await job(table, ids[2]!)).toMatchObject({ state: 'cancelled' });
    });

    it('an idle worker is woken through the cluster subscription by an enqueue from another client', async () => {
      const ping = defineJob('cluster_wake', { handler: async () => {} });
      const wakeTable = `${table}_wake`;
      // An hour between polls: only the wake-up can start the job within the test.
      const w = jobsOn(await connect(), [ping], wakeTable).createWorker({ ...fast, pollIntervalMs: 3_600_000 });
      workers.push(w);
      const listening = w.next('listening');
      await w.start();
      await listening;
      // The worker looks once after subscribing; let that claim pass first, or it could take the job.
      await w.drained();
      const subscribers = (await Promise.all(cluster.nodes.map((n) => cluster.cli(n.port, 'CLIENT', 'LIST', 'TYPE', 'pubsub')))).join('');
      expect(subscribers).toContain(`concordia:listen:{${wakeTable}}:wake`);
      const completed = w.next('job:completed');
      // Another client, so this process's own enqueue hook cannot wake the worker.
      const id = await jobsOn(await connect(), [ping], wakeTable).enqueueAutocommit(ping({}));
      expect((await completed).job.id).toBe(id);
    });
  });
});
