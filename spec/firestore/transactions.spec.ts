/**
 * Firestore-specific behaviour of enqueue, on the emulator: transaction callbacks that run more
 * than once, Firestore's reads-before-writes rule, WriteBatch, and ids that avoid hotspots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Firestore } from '@google-cloud/firestore';
import { firestoreAdapter, firestoreIndexes } from '../../adapters/firestore/firestore-adapter.ts';
import { createJobs, defineJob, silentLogger, type Jobs } from '../../lib/index.ts';
import { InvalidOptionError, NotInTransactionError, StateError } from '../../lib/errors.ts';
import { docIdOf } from '../../lib/backends/firestore/firestore-codec.ts';
import { guardOf } from '../../lib/backends/firestore/firestore-insert.ts';
import { collectionsOf } from '../../lib/backends/firestore/firestore-session.ts';
import { clearProject, emulatorFirestore, firestoreReachable } from '../support/firestore-harness.ts';

const projectId = `concordia-tx-${process.pid}`;
const note = defineJob('fs_note', { handler: async (_a: { n: number }) => {} });

/** An error the SDK treats as a lost race (ABORTED): it re-runs the callback, as under real contention. */
function aborted(): Error {
  return Object.assign(new Error('simulated contention'), { code: 10 });
}

describe('firestore transactions', () => {
  let available = true;
  let fs: Firestore;
  let jobs: Jobs<unknown>;
  const table = 'jobs';

  beforeAll(async () => {
    available = await firestoreReachable();
    if (!available) return;
    fs = emulatorFirestore(projectId);
    jobs = createJobs({ adapter: firestoreAdapter({ firestore: fs }), table, jobs: [note] }) as Jobs<unknown>;
  });
  afterAll(async () => {
    if (!available) return;
    await clearProject(projectId);
    await fs.terminate();
  });

  const test = (name: string, fn: () => Promise<void>, timeout = 60_000) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    }, timeout);

  const jobsWhere = async (field: string, value: unknown) => (await fs.collection(table).where(field, '==', value).get()).docs;

  test('a callback that runs twice commits only the last attempt\'s job, beside the business write', async () => {
    const seen: string[] = [];
    const id = await fs.runTransaction(async (tx) => {
      tx.set(fs.collection('orders').doc('rerun'), { total: 42 });
      const jobId = await jobs.enqueue(tx, note({ n: seen.length }), { queue: 'rerun' });
      seen.push(jobId);
      if (seen.length === 1) throw aborted();
      return jobId;
    });
    expect(seen).toHaveLength(2);
    expect(id).toBe(seen[1]);
    const docs = await jobsWhere('queue', 'rerun');
    expect(docs.map((d) => [d.get('id'), JSON.parse(String(d.get('args')))])).toEqual([[seen[1], { n: 1 }]]);
    expect((await fs.collection('orders').doc('rerun').get()).get('total')).toBe(42);
  });

  test('real contention: concurrent transactions on one counter each commit exactly one job, matching their write', async () => {
    const N = 6;
    const counter = fs.collection('counters').doc('c');
    await counter.set({ n: 0 });
    let attempts = 0;
    const results = await Promise.all(
      Array.from({ length: N }, () =>
        fs.runTransaction(
          async (tx) => {
            attempts++;
            const n = Number((await tx.get(counter)).get('n')) + 1;
            tx.update(counter, { n });
            return { n, id: await jobs.enqueue(tx, note({ n }), { queue: 'contended' }) };
          },
          { maxAttempts: 50 },
        ),
      ),
    );
    // The callbacks lost races and ran again: otherwise this test could not tell anything.
    expect(attempts).toBeGreaterThan(N);
    expect((await counter.get()).get('n')).toBe(N);
    const docs = await jobsWhere('queue', 'contended');
    expect(docs).toHaveLength(N);
    const byId = new Map(docs.map((d) => [String(d.get('id')), (JSON.parse(String(d.get('args'))) as { n: number }).n]));
    // Each committed job is the one its committed attempt returned, with that attempt's counter value.
    expect(new Map(results.map((r) => [r.id, r.n]))).toEqual(byId);
    expect([...byId.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });

  test('a unique enqueue re-run by Firestore inserts again instead of trusting the attempt that never committed', async () => {
    const key = `rerun-unique-${Date.now()}`;
    const results: { inserted: boolean; id: string | null }[] = [];
    await fs.runTransaction(async (tx) => {
      const first = await jobs.enqueueUnique(tx, note({ n: 1 }), { queue: 'rerun_unique', unique: { key } });
      const second = await jobs.enqueueUnique(tx, note({ n: 1 }), { queue: 'rerun_unique', unique: { key } });
      results.push(first, second);
      if (results.length === 2) throw aborted();
    });
    const [a1, a1dup, a2, a2dup] = results;
    expect(a1!.inserted).toBe(true);
    expect(a1dup).toEqual({ inserted: false, id: a1!.id });
    // The second attempt must not take the first attempt's (never committed) job for the holder.
    expect(a2!.inserted).toBe(true);
    expect(a2!.id).not.toBe(a1!.id);
    expect(a2dup).toEqual({ inserted: false, id: a2!.id });
    expect((await jobsWhere('queue', 'rerun_unique')).map((d) => d.get('id'))).toEqual([a2!.id]);
    expect(await jobs.enqueueUniqueAutocommit(note({ n: 1 }), { queue: 'rerun_unique', unique: { key } })).toEqual({ inserted: false, id: a2!.id });
  });

  test('enqueueUnique after a write in the transaction is a typed error that leaves the transaction clean', async () => {
    const key = `after-write-${Date.now()}`;
    let caught: unknown;
    await fs.runTransaction(async (tx) => {
      tx.set(fs.collection('orders').doc('after-write'), { total: 7 });
      caught = await jobs.enqueueUnique(tx, note({ n: 2 }), { queue: 'after_write', unique: { key } }).then(() => null, (e: unknown) => e);
    });
    expect(caught).toBeInstanceOf(StateError);
    expect(String((caught as Error).message)).toMatch(/before any write/);
    // The business write committed; no job and no guard were written.
    expect((await fs.collection('orders').doc('after-write').get()).get('total')).toBe(7);
    expect(await jobsWhere('queue', 'after_write')).toHaveLength(0);
    expect((await guardOf(collectionsOf(fs, table), key).get()).exists).toBe(false);
  });

  test('a WriteBatch carries enqueue and enqueueMany; enqueueUnique in a batch is refused before anything is queued', async () => {
    const batch = fs.batch();
    batch.set(fs.collection('orders').doc('batch'), { total: 9 });
    const one = await jobs.enqueue(batch, note({ n: 1 }), { queue: 'batch_q' });
    const many = await jobs.enqueueMany(batch, [note({ n: 2 }), note({ n: 3 })], { queue: 'batch_q' });
    await expect(jobs.enqueueUnique(batch, note({ n: 4 }), { queue: 'batch_q', unique: {} })).rejects.toBeInstanceOf(StateError);
    // Nothing is visible before the batch commits.
    expect(await jobsWhere('queue', 'batch_q')).toHaveLength(0);
    await batch.commit();
    const ids = (await jobsWhere('queue', 'batch_q')).map((d) => String(d.get('id'))).sort();
    expect(ids).toEqual([one, ...many].sort());
    expect((await fs.collection('orders').doc('batch').get()).get('total')).toBe(9);
  });

  test('ids sort by creation while document names and shards spread over the key space', async () => {
    const sharded = createJobs({ adapter: firestoreAdapter({ firestore: fs, shards: 16 }), table, jobs: [note] });
    const ids = await fs.runTransaction((tx) => sharded.enqueueMany(tx, Array.from({ length: 400 }, (_, n) => note({ n })), { queue: 'spread' }));
    expect([...ids].sort()).toEqual(ids); // UUIDv7: creation order as text
    const names = ids.map(docIdOf);
    // Document names in creation order are not in key order: inserts do not all land at the end of the range.
    expect([...names].sort()).not.toEqual(names);
    expect(new Set(names.map((n) => n[0])).size).toBeGreaterThanOrEqual(12); // first hex digit: 16 values
    const docs = await jobsWhere('queue', 'spread');
    const shards = new Set(docs.map((d) => Number(d.get('shard'))));
    expect(shards.size).toBe(16);
    expect([...shards].every((s) => Number.isInteger(s) && s >= 0 && s < 16)).toBe(true);
  });

  test('shards are checked; every composite index starts with the shard and time-ordered fields are not indexed alone', async () => {
    expect(() => firestoreAdapter({ firestore: fs, shards: 0 }).backend({ table })).toThrow(InvalidOptionError);
    expect(() => firestoreAdapter({ firestore: fs, shards: 31 }).backend({ table })).toThrow(InvalidOptionError);
    const spec = firestoreIndexes('jobs');
    expect(spec.indexes.every((i) => i.fields[0]?.fieldPath === 'shard' && i.collectionGroup === 'jobs')).toBe(true);
    expect(spec.fieldOverrides.map((f) => f.fieldPath)).toEqual(expect.arrayContaining(['id', 'run_at', 'created_at', 'finalized_at', 'lease_expires_at']));
  });

  test('a handle that is not a transaction or batch is refused', async () => {
    await expect(jobs.enqueue(fs as never, note({ n: 0 }))).rejects.toBeInstanceOf(NotInTransactionError);
  });

  test('with 8 shards, three workers racing for the same jobs run each of 300 exactly once', async () => {
    const runs = new Map<number, number>();
    const counted = defineJob('fs_sharded', { handler: async (a: { n: number }) => void runs.set(a.n, (runs.get(a.n) ?? 0) + 1) });
    const sharded = createJobs({ adapter: firestoreAdapter({ firestore: fs, shards: 8 }), table: 'sharded_jobs', jobs: [counted] });
    await fs.runTransaction((tx) => sharded.enqueueMany(tx, Array.from({ length: 300 }, (_, n) => counted({ n })), { queue: 'sharded' }));
    const workers = Array.from({ length: 3 }, () => sharded.createWorker({ queues: ['sharded'], concurrency: 10, pollIntervalMs: 50, logger: silentLogger }));
    let done = 0;
    const all = new Promise<void>((resolve) => workers.forEach((w) => w.on('job:completed', () => ++done === 300 && resolve())));
    await Promise.all(workers.map((w) => w.start()));
    await all;
    await Promise.all(workers.map((w) => w.stop()));
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const docs = (await fs.collection('sharded_jobs').get()).docs;
    expect(docs.every((d) => d.get('state') === 'completed' && d.get('attempt') === 1)).toBe(true);
    expect(new Set(docs.map((d) => d.get('locked_by'))).size).toBe(3);
  }, 120_000);
});
