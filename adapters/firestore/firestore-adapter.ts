/**
 * The Firestore adapter (`@google-cloud/firestore`, or firebase-admin's `getFirestore()`, which
 * returns the same class): enqueue inside your `runTransaction` callback or `WriteBatch`.
 *
 * ```ts
 * const firestore = new Firestore({ projectId: 'my-project' });
 * const jobs = createJobs({ adapter: firestoreAdapter({ firestore }), jobs: [sendEmail] });
 * await firestore.runTransaction(async (tx) => {
 *   tx.create(firestore.collection('orders').doc(orderId), { total: 42 });
 *   await jobs.enqueue(tx, sendEmail({ orderId })); // committed with the order, or not at all
 * });
 * ```
 *
 * @module concordia/firestore
 */
import type { Firestore, Transaction, WriteBatch } from '@google-cloud/firestore';
import type { Adapter } from '../../lib/backend/adapter.ts';
import { FirestoreBackend } from '../../lib/backends/firestore/firestore-backend.ts';
import type { FirestoreSession } from '../../lib/backends/firestore/firestore-session.ts';
import { NotInTransactionError } from '../../lib/errors.ts';

export type { FirestoreSession } from '../../lib/backends/firestore/firestore-session.ts';
export { firestoreIndexes, type FirestoreIndex, type FirestoreFieldOverride } from '../../lib/backends/firestore/firestore-indexes.ts';

/** The Firestore adapter. `Tx` is the `Transaction` of `runTransaction`, or a `WriteBatch`. */
export type FirestoreAdapter = Adapter<Transaction | WriteBatch, FirestoreSession>;

/** Options of {@link firestoreAdapter}. */
export interface FirestoreAdapterOptions {
  /** The Firestore instance: `new Firestore(…)`, or `getFirestore()` of firebase-admin. */
  firestore: Firestore;
  /**
   * Shards (1–30, default 1): how many places the jobs' time-ordered index entries are spread
   * over, and how many parts claimers split the ready jobs into. One keeps the claim order exact
   * and suits up to a few hundred enqueues a second; more spread the writes (see the README's
   * scale-out section). Fixed for the life of a collection: every process using it must agree.
   */
  shards?: number;
}

/** A `Transaction` of `runTransaction` (it reads; a batch does not). */
function isTransaction(tx: unknown): tx is Transaction {
  const t = tx as Record<string, unknown> | null;
  return typeof t === 'object' && t !== null && typeof t['get'] === 'function' && typeof t['getAll'] === 'function' && typeof t['create'] === 'function' && typeof t['collection'] !== 'function';
}

/** A `WriteBatch` (writes and commit, no reads). */
function isWriteBatch(tx: unknown): tx is WriteBatch {
  const b = tx as Record<string, unknown> | null;
  return typeof b === 'object' && b !== null && typeof b['create'] === 'function' && typeof b['commit'] === 'function' && typeof b['get'] !== 'function';
}

/** Creates the adapter. Workers use the same instance for their short transactions. */
export function firestoreAdapter(options: FirestoreAdapterOptions): FirestoreAdapter {
  const db = options.firestore;
  const autocommit: FirestoreSession = { db, tx: null, batch: null };
  return {
    name: 'firestore',
    backend: (o) => new FirestoreBackend(o.table, options.shards === undefined ? {} : { shards: options.shards }),
    bind(tx) {
      if (isTransaction(tx)) return { db, tx, batch: null };
      if (isWriteBatch(tx)) return { db, tx: null, batch: tx };
      throw new NotInTransactionError('firestoreAdapter: enqueue() needs the Transaction of firestore.runTransaction() (or a WriteBatch); the Firestore instance would write the job on its own.');
    },
    autocommit: () => autocommit,
    // The callback may run more than once (Firestore retries on contention): only the last run's writes commit.
    transaction: (fn) => db.runTransaction((tx) => fn({ db, tx, batch: null }), { maxAttempts: 10 }),
  };
}
