/**
 * Harnesses of the Firestore backend for the conformance suite. Each harness has a project of
 * its own on the emulator (so files run in parallel without seeing each other's documents), and
 * looks at the jobs from outside through a Firestore instance of its own.
 */
import { randomBytes } from 'node:crypto';
import { Firestore, type Transaction } from '@google-cloud/firestore';
import { firestoreAdapter } from '../../adapters/firestore/firestore-adapter.ts';
import { docIdOf, readJob } from '../../lib/backends/firestore/firestore-codec.ts';
import type { Adapter } from '../../lib/backend/adapter.ts';
import { firestoreEmulatorHost } from './emulator-endpoints.ts';
import type { Harness, JobRowView } from './harness.ts';

/** The emulator's `host:port` (FIRESTORE_EMULATOR_HOST, else the run's globalSetup), or '' when there is none. */
export function firestoreHost(): string {
  return firestoreEmulatorHost();
}

/** Whether the emulator answers. Under CI the run's globalSetup has already failed without one. */
export async function firestoreReachable(): Promise<boolean> {
  const host = firestoreHost();
  try {
    if (!host) throw new Error('no emulator was started or named');
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch (error) {
    if (process.env['CI']) throw new Error(`The Firestore emulator is not reachable in CI (${String(error)}): every store must run there.`, { cause: error });
    console.warn(`\n!!! The Firestore emulator is not reachable (${String(error)}); its tests are SKIPPED. Set FIRESTORE_EMULATOR_HOST.\n`);
    return false;
  }
}

/** A Firestore instance on the emulator, in `projectId`. */
export function emulatorFirestore(projectId: string): Firestore {
  // The SDK talks to the emulator (no credentials) when this is set; set before the instance is made.
  process.env['FIRESTORE_EMULATOR_HOST'] = firestoreHost();
  return new Firestore({ projectId });
}

/** Deletes every document of `projectId` on the emulator. */
export async function clearProject(projectId: string): Promise<void> {
  await fetch(`http://${firestoreHost()}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' });
}

function json(v: string | null): unknown {
  if (v === null) return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** The harness: the user's transaction is the `Transaction` of `runTransaction`. */
export async function firestoreHarness(options: { firestore?: (projectId: string) => Firestore; name?: string } = {}): Promise<Harness<Transaction>> {
  const projectId = `concordia-${randomBytes(4).toString('hex')}`;
  const firestore = (options.firestore ?? emulatorFirestore)(projectId);
  const outside = emulatorFirestore(projectId);
  const table = 'jobs';
  const adapter = firestoreAdapter({ firestore });
  const jobs = outside.collection(table);
  const orders = outside.collection('orders');
  return {
    name: options.name ?? 'firestore/firestore',
    db: 'firestore',
    // The emulator answers a query in milliseconds to tens of them: dozens of idle workers polling every 20 ms would saturate it.
    stopWorkersAfterEach: true,
    raceJobs: 1000,
    adapter: adapter as unknown as Adapter<Transaction>,
    table,
    // Many attempts: the unique-key race test runs 32 transactions on one guard document.
    inTransaction: (fn) => firestore.runTransaction((tx) => fn(tx), { maxAttempts: 100 }),
    async insertOrder(tx, id) {
      tx.create(firestore.collection('orders').doc(String(id)), { id });
    },
    async orderIds() {
      return (await orders.get()).docs.map((d) => Number(d.get('id'))).sort((a, b) => a - b);
    },
    notInTransaction: () => firestore,
    async rows(): Promise<JobRowView[]> {
      const docs = (await jobs.get()).docs.map((d) => readJob(d)!);
      return docs
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((j) => ({
          id: j.id,
          queue: j.queue,
          kind: j.kind,
          state: j.state,
          priority: j.priority,
          attempt: j.attempt,
          maxAttempts: j.max_attempts,
          runAtMs: j.run_at,
          finalizedAtMs: j.finalized_at,
          leaseToken: j.lease_token,
          lockedBy: j.locked_by,
          errors: json(j.errors) as JobRowView['errors'],
          metadata: json(j.metadata),
          args: json(j.args),
        }));
    },
    async expireLease(id) {
      const ref = jobs.doc(docIdOf(id));
      const created = (await ref.get()).get('created_at') as number;
      await ref.update({ lease_expires_at: created });
    },
    async insertRaw(row) {
      // Straight through the backend: none of enqueue's checks of kind and args.
      const backend = adapter.backend({ table });
      const [id] = await backend.insert(adapter.autocommit(), [{ queue: 'corrupt', kind: row.kind, argsJson: row.argsJson, metadataJson: null, priority: 0, maxAttempts: 20, runAt: null, delayMs: 0 }], null);
      return id!;
    },
    async close() {
      await clearProject(projectId);
      await firestore.terminate();
      await outside.terminate();
    },
  };
}
