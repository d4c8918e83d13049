/**
 * Firestore (on the emulator, `FIRESTORE_EMULATOR_HOST` or `BENCH_FIRESTORE_EMULATOR_HOST`): a
 * Concordia drain, enqueue inside the application's `runTransaction` (next to one write of its
 * own), and a hand-written raw loop (query the available documents in order, update each to
 * running with a last-update-time precondition, then to completed) as the reference.
 *
 * The emulator is a single Java process with none of the service's distribution, limits or
 * latency: its speed says nothing about the service's. What carries over is the document reads
 * and writes per job (what Firestore bills), counted by wrapping the SDK's read and write methods
 * (bench/lib/firestore-ops.ts). Each run uses a project of its own (`bench-<tag>`) and deletes
 * its documents through the emulator's reset endpoint afterwards.
 */
import { Firestore, type DocumentSnapshot } from '@google-cloud/firestore';
import { firestoreAdapter } from '../../adapters/firestore/firestore-adapter.ts';
import { createJobs, defineJob, type WorkOptions } from '../../lib/index.ts';
import { Meter, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';
import { countOps, opsPerJob, type OpCounts } from '../lib/firestore-ops.ts';

export const FIRESTORE_EMULATOR = process.env['BENCH_FIRESTORE_EMULATOR_HOST'] || process.env['FIRESTORE_EMULATOR_HOST'] || '';

const projectOf = (spec: CaseSpec): string => `bench-${spec.tag.replace(/_/g, '-')}`;

function client(projectId: string): Firestore {
  // The SDK finds the emulator through this variable; a bench-only setting may name it instead.
  process.env['FIRESTORE_EMULATOR_HOST'] = FIRESTORE_EMULATOR;
  // Without credentials google-auth-library probes for the GCE metadata server and warns when
  // there is none; the emulator needs no credentials.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  return new Firestore({ projectId });
}

/** Deletes every document of the run's project (the emulator's own endpoint). */
async function wipe(projectId: string): Promise<void> {
  const res = await fetch(`http://${FIRESTORE_EMULATOR}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`emulator reset of ${projectId}: HTTP ${res.status}`);
}

function workOptions(spec: CaseSpec): WorkOptions {
  const o: WorkOptions = { logger: { warn: console.warn, error: console.error } };
  if (spec.opts['concurrency'] !== undefined) o.concurrency = Number(spec.opts['concurrency']);
  return o;
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  if (FIRESTORE_EMULATOR === '') throw new Error('no Firestore emulator: set FIRESTORE_EMULATOR_HOST');
  const projectId = projectOf(spec);
  const db = client(projectId);
  const table = `bench_${spec.tag}`;
  try {
    if (spec.impl === 'raw-firestore') return await raw(spec, db, table);
    if (spec.scenario === 'drain') return await drain(spec, db, table);
    return await enqueue(spec, db, table);
  } finally {
    await db.terminate().catch(() => {});
    await wipe(projectId).catch((error: unknown) => console.warn(`bench firestore: ${String(error)}`));
  }
}

/** Completed jobs, by a count() from a second client whose reads are not counted. */
const completedCount = async (side: Firestore, table: string): Promise<number> => (await side.collection(table).where('state', '==', 'completed').count().get()).data().count;

async function drain(spec: CaseSpec, db: Firestore, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const jobs = createJobs({ adapter: firestoreAdapter({ firestore: db }), jobs: [noop], table });
  // 400 per batch: under Google's 500 writes per commit.
  for (let i = 0; i < spec.n; i += 400) await jobs.enqueueManyAutocommit(Array.from({ length: Math.min(400, spec.n - i) }, (_, k) => noop({ i: i + k })));
  const side = client(projectOf(spec));
  const ops = countOps(db);
  const before = { ...ops };
  let completed = 0;
  const meter = new Meter();
  meter.start();
  const worker = jobs.createWorker(workOptions(spec));
  worker.on('job:completed', () => void completed++);
  await worker.start();
  const done = await waitDrained(spec.n, () => completed, () => completedCount(side, table), performance.now() + spec.capSeconds * 1000);
  const m = meter.stop();
  await worker.stop();
  await side.terminate();
  return rateResult(spec.n, done, m, opsPerJob(ops, before, done));
}

/**
 * Enqueue inside the application's `runTransaction`, next to one document of its own; `batch`
 * jobs per transaction from `concurrency` lanes. `jobWritesPerJob` leaves the own writes out.
 */
async function enqueue(spec: CaseSpec, db: Firestore, table: string): Promise<CaseResult> {
  const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
  const jobs = createJobs({ adapter: firestoreAdapter({ firestore: db }), jobs: [noop], table });
  const batch = Number(spec.opts['batch'] ?? 1);
  const lanes = Number(spec.opts['concurrency'] ?? 1);
  const orders = db.collection(`${table}_orders`);
  const ops = countOps(db);
  const before: OpCounts = { ...ops };
  let ownWrites = 0;
  const meter = new Meter();
  meter.start();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < spec.n) {
      const i = next;
      next += batch;
      await db.runTransaction(async (tx) => {
        tx.set(orders.doc(`order-${i}`), { i });
        await jobs.enqueueMany(tx, Array.from({ length: Math.min(batch, spec.n - i) }, (_, k) => noop({ i: i + k })));
      });
      ownWrites++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const m = meter.stop();
  const per = { ...opsPerJob(ops, before, spec.n), jobWritesPerJob: (ops.writes - before.writes - ownWrites) / spec.n };
  const stored = (await db.collection(table).count().get()).data().count;
  if (stored !== spec.n) throw new Error(`enqueue: ${stored} jobs stored, ${spec.n} expected`);
  return rateResult(spec.n, spec.n, m, per);
}

/**
 * The raw loop: one document per job with `lane`, `seq` and `state`; each lane queries up to
 * `batch` available documents of its own lane ordered by `seq` (so lanes never race), updates
 * each to running with a precondition on the update time it read, then to completed with one on
 * the time that write returned. No leases, retries, priorities, pause markers or indexes beyond
 * the query's: the emulator's reference for "query, then write twice per job".
 */
async function raw(spec: CaseSpec, db: Firestore, table: string): Promise<CaseResult> {
  const lanes = Number(spec.opts['lanes'] ?? 10);
  const batch = Number(spec.opts['batch'] ?? 100);
  const col = db.collection(table);
  for (let i = 0; i < spec.n; i += 400) {
    const b = db.batch();
    for (let k = i; k < Math.min(i + 400, spec.n); k++) b.create(col.doc(`j${String(k).padStart(9, '0')}`), { lane: k % lanes, seq: k, state: 'available' });
    await b.commit();
  }
  const ops = countOps(db);
  const before = { ...ops };
  let done = 0;
  const meter = new Meter();
  meter.start();
  const deadline = performance.now() + spec.capSeconds * 1000;
  const take = async (snap: DocumentSnapshot): Promise<boolean> => {
    try {
      const running = await snap.ref.update({ state: 'running' }, { lastUpdateTime: snap.updateTime! });
      await snap.ref.update({ state: 'completed' }, { lastUpdateTime: running.writeTime });
      return true;
    } catch {
      return false; // changed meanwhile (not by another lane: each reads its own)
    }
  };
  const lane = async (l: number): Promise<void> => {
    while (done < spec.n && performance.now() < deadline) {
      const snap = await col.where('lane', '==', l).where('state', '==', 'available').orderBy('seq').limit(batch).get();
      if (snap.empty) return;
      for (const d of snap.docs) if (await take(d)) done++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  const m = meter.stop();
  const per = opsPerJob(ops, before, done);
  const check = await completedCount(db, table);
  if (check < done) throw new Error(`raw: ${done} counted, ${check} completed in the collection`);
  return rateResult(spec.n, done, m, per);
}
