/**
 * Operator actions on Firestore: pause and resume (a marker document per queue in
 * `<table>_queues`, read by every claim inside its transaction), cancel, retry, and retention.
 *
 * @internal
 */
import type { Firestore } from '@google-cloud/firestore';
import type { PruneParams, RetryResult } from '../../backend/backend.ts';
import { allShards, docIdOf, enter, readJob } from './firestore-codec.ts';
import { casDelete } from './firestore-cas.ts';
import type { FirestoreCollections, FirestoreSession } from './firestore-session.ts';

export async function pausedQueues(c: FirestoreCollections): Promise<string[]> {
  const snap = await c.queues.where('paused', '==', true).get();
  return snap.docs.map((d) => d.id).sort();
}

/** Sets or clears the queue's pause marker; true if this call changed it. */
export function setPaused(db: Firestore, c: FirestoreCollections, queue: string, paused: boolean, now: Date | null): Promise<boolean> {
  const ref = c.queues.doc(queue);
  return db.runTransaction(async (tx) => {
    const was = (await tx.get(ref)).get('paused') === true;
    if (was === paused) return false;
    tx.set(ref, { paused, changed_at: (now ?? new Date()).getTime() }, { merge: true });
    return true;
  }, { maxAttempts: 10 });
}

export function cancelJob(s: FirestoreSession, c: FirestoreCollections, id: string, now: Date | null): Promise<boolean> {
  const ref = c.jobs.doc(docIdOf(id));
  return s.db.runTransaction(async (tx) => {
    const job = readJob(await tx.get(ref));
    if (!job || (job.state !== 'available' && job.state !== 'running')) return false;
    tx.update(ref, { ...enter(job, 'cancelled'), finalized_at: (now ?? new Date()).getTime(), lease_expires_at: null });
    return true;
  }, { maxAttempts: 10 });
}

export function retryJob(s: FirestoreSession, c: FirestoreCollections, id: string, now: Date | null): Promise<RetryResult> {
  const ref = c.jobs.doc(docIdOf(id));
  return s.db.runTransaction(async (tx) => {
    const job = readJob(await tx.get(ref));
    if (!job) return { retried: false, state: null };
    if (job.state !== 'discarded' && job.state !== 'cancelled') return { retried: false, state: job.state };
    // The unique key, dropped when the job left its covered states, is not restored (as on SQL).
    tx.update(ref, { state: 'available', attempt: 0, run_at: (now ?? new Date()).getTime(), finalized_at: null, lease_expires_at: null });
    return { retried: true, state: 'available' as const };
  }, { maxAttempts: 10 });
}

/** Deletes up to `limit` jobs in `state` finalized before the cutoff; each batch re-checks in its transaction. */
export async function pruneJobs(db: Firestore, c: FirestoreCollections, shards: number, p: PruneParams): Promise<number> {
  if (p.limit <= 0) return 0;
  const cutoff = (p.now ?? new Date()).getTime() - p.olderThanMs;
  const snap = await c.jobs
    .where('shard', 'in', allShards(shards))
    .where('state', '==', p.state)
    .where('finalized_at', '<', cutoff)
    .orderBy('finalized_at')
    .limit(p.limit)
    .select('state')
    .get();
  // A compare-and-set delete: a job retried since the query read it stays. A guard naming a
  // deleted job goes stale with it (the unique insert reads the job behind a guard).
  const done = await Promise.all(snap.docs.map((d) => casDelete(d)));
  const deleted = done.filter(Boolean).length;
  return deleted;
}
