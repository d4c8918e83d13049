/**
 * The adapter on firebase-admin's Firestore (`getFirestore()`, the same class as
 * `@google-cloud/firestore`'s): a transactional enqueue, a worker run and the inspection reads,
 * on the emulator. The whole conformance suite runs on `@google-cloud/firestore` directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getFirestore } from 'firebase-admin/firestore';
import { firestoreAdapter } from '../../adapters/firestore/firestore-adapter.ts';
import { createJobs, defineJob, silentLogger } from '../../lib/index.ts';
import { assertEnqueued, drainQueue, listEnqueued } from '../../lib/testing/index.ts';
import { clearProject, firestoreHost, firestoreReachable } from '../support/firestore-harness.ts';

const projectId = `concordia-admin-${process.pid}`;

describe('firestore through firebase-admin', () => {
  let available = true;
  let app: App;

  beforeAll(async () => {
    available = await firestoreReachable();
    if (!available) return;
    process.env['FIRESTORE_EMULATOR_HOST'] = firestoreHost();
    app = initializeApp({ projectId }, `concordia-${process.pid}`);
  });
  afterAll(async () => {
    if (!available) return;
    await clearProject(projectId);
    await deleteApp(app);
  });

  it('enqueues in runTransaction with the order, runs the job, and lists it', async (ctx) => {
    if (!available) return ctx.skip();
    const firestore = getFirestore(app);
    const ran: string[] = [];
    const receipt = defineJob('admin_receipt', { handler: async (a: { orderId: string }) => void ran.push(a.orderId) });
    const jobs = createJobs({ adapter: firestoreAdapter({ firestore }), jobs: [receipt] });
    const id = await firestore.runTransaction(async (tx) => {
      tx.set(firestore.collection('orders').doc('a1'), { total: 1 });
      return jobs.enqueue(tx, receipt({ orderId: 'a1' }), { queue: 'admin' });
    });
    expect((await listEnqueued(jobs, { queue: 'admin' })).map((j) => [j.id, j.state])).toEqual([[id, 'available']]);
    const worker = jobs.createWorker({ queues: ['admin'], pollIntervalMs: 50, logger: silentLogger });
    const done = worker.next('job:completed');
    await worker.start();
    expect((await done).job.id).toBe(id);
    await worker.stop();
    expect(ran).toEqual(['a1']);
    expect((await listEnqueued(jobs, { queue: 'admin' })).map((j) => j.state)).toEqual(['completed']);
  });

  it('testing helpers: assertEnqueued sees a committed job; drainQueue runs what is due and reports it', async (ctx) => {
    if (!available) return ctx.skip();
    const firestore = getFirestore(app);
    const ran: number[] = [];
    const step = defineJob('admin_step', { handler: async (a: { n: number }) => void ran.push(a.n) });
    const jobs = createJobs({ adapter: firestoreAdapter({ firestore }), jobs: [step] });
    await firestore.runTransaction((tx) => jobs.enqueueMany(tx, [step({ n: 1 }), step({ n: 2 })], { queue: 'helpers' }));
    await assertEnqueued(jobs, step, { args: { n: 2 }, count: 1 });
    const drained = await drainQueue(jobs, { queues: ['helpers'] });
    expect(drained.completed).toBe(2);
    expect(ran.sort()).toEqual([1, 2]);
    await assertEnqueued(jobs, step, { state: 'completed', count: 2 });
  });
});
