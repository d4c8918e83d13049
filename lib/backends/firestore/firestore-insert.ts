/**
 * Enqueue on Firestore: job documents created in the caller's `Transaction` or `WriteBatch`
 * (or in a batch of our own, committed at once), and unique jobs through guard documents.
 *
 * Firestore re-runs a transaction callback when the transaction loses a race; only the last
 * attempt's writes commit. Nothing here keeps state across attempts that could outlive the
 * attempt: each attempt makes new ids and queues new writes, and the one remembered fact (which
 * unique keys this transaction already enqueued) is checked against the writes the current
 * attempt really queued (see `queuedInThisAttempt`).
 *
 * A unique key is guarded by one document, named by the key's SHA-256, that names the job
 * holding it. The guard is never updated when the job moves on: the job document itself carries
 * `unique_key` only while its state is covered (as the SQL column does), so a guard whose job no
 * longer carries the key, or no longer exists (pruned, deleted), is stale and is taken over.
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import type { DocumentReference, Transaction } from '@google-cloud/firestore';
import { StateError } from '../../errors.ts';
import type { InsertRow, UniqueInsertResult, UniqueInsertRow } from '../../job.ts';
import { uuidV7 } from '../../uuid-v7.ts';
import { docIdOf, newJobDoc, readJob } from './firestore-codec.ts';
import { isReadAfterWrite, queuedInThisAttempt, type FirestoreCollections, type FirestoreSession } from './firestore-session.ts';

/** The guard document of a unique key. */
export function guardOf(c: FirestoreCollections, key: string): DocumentReference {
  return c.guards.doc(createHash('sha256').update(key).digest('hex'));
}

/** Queues the creation of each job in the session; returns their ids in order. */
export async function insertJobs(s: FirestoreSession, c: FirestoreCollections, shards: number, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
  const t = now?.getTime() ?? Date.now();
  const ids = rows.map(() => uuidV7(t));
  const docs = rows.map((r, i) => newJobDoc(r, ids[i]!, t, shards));
  if (s.tx || s.batch) {
    const w = (s.tx ?? s.batch)!;
    docs.forEach((d) => void w.create(c.jobs.doc(docIdOf(d.id)), { ...d }));
  } else {
    const batch = s.db.batch();
    docs.forEach((d) => void batch.create(c.jobs.doc(docIdOf(d.id)), { ...d }));
    await batch.commit();
  }
  return ids;
}

/** The unique keys each transaction enqueued, and the job of each (valid only while the current attempt queued the guard). */
const enqueuedKeys = new WeakMap<Transaction, Map<string, string>>();

/** Inside a transaction (the caller's or our own): read the guard, and its job if any; write the job and the guard if the key is free. */
async function uniqueInTx(tx: Transaction, c: FirestoreCollections, shards: number, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
  const guard = guardOf(c, row.uniqueKey);
  const mine = enqueuedKeys.get(tx)?.get(guard.path);
  if (mine !== undefined && queuedInThisAttempt(tx, guard)) return { inserted: false, id: mine };
  let holder: string | null = null;
  try {
    const g = await tx.get(guard);
    const jobId = g.get('job_id') as unknown;
    if (typeof jobId === 'string') {
      const job = readJob(await tx.get(c.jobs.doc(docIdOf(jobId))));
      if (job && job.unique_key === row.uniqueKey) holder = job.id;
    }
  } catch (error) {
    if (!isReadAfterWrite(error)) throw error;
    throw new StateError(
      'Firestore: enqueueUnique() must come before any write in the transaction (Firestore runs all reads of a transaction before its writes, ' +
        'and a unique enqueue reads its key). Call it first in runTransaction(), or once per transaction; nothing was written.',
    );
  }
  if (holder !== null) return { inserted: false, id: holder };
  const t = now?.getTime() ?? Date.now();
  const id = uuidV7(t);
  const doc = { ...newJobDoc(row, id, t, shards), unique_key: row.uniqueKey, unique_states: row.uniqueStates };
  tx.create(c.jobs.doc(docIdOf(id)), doc);
  // set, not create: the guard may be a stale one being taken over. A concurrent taker read it
  // too, so Firestore lets only one of the two transactions commit; the other re-runs and finds this job.
  tx.set(guard, { key: row.uniqueKey, job_id: id });
  let keys = enqueuedKeys.get(tx);
  if (!keys) enqueuedKeys.set(tx, (keys = new Map()));
  keys.set(guard.path, id);
  return { inserted: true, id };
}

export async function insertUniqueJob(s: FirestoreSession, c: FirestoreCollections, shards: number, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
  if (s.batch) {
    throw new StateError('Firestore: enqueueUnique() needs a Transaction (firestore.runTransaction), not a WriteBatch: a batch cannot read the unique key. Nothing was written.');
  }
  if (s.tx) return uniqueInTx(s.tx, c, shards, row, now);
  return s.db.runTransaction((tx) => uniqueInTx(tx, c, shards, row, now), { maxAttempts: 20 });
}
