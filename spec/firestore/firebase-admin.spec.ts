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
import { listEnqueued } from '../../lib/testing/index.ts';
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
});
