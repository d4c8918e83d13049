/**
 * The end of a run, fenced: completion, failure (retry, snooze, cancel, discard), release at
 * shutdown, heartbeats, and the rescue of jobs whose lease expired. Each is a short transaction
 * that re-reads the jobs and writes only those still `running` under the run's lease token, so a
 * stale run (its lease lost and the job claimed again) never overwrites the newer one.
 *
 * @internal
 */
import type { Firestore } from '@google-cloud/firestore';
import type { FailParams } from '../../backend/backend.ts';
import type { Fence } from '../../job.ts';
import { allShards, docIdOf, enter, errorList, readJob, type JobDoc } from './firestore-codec.ts';
import type { FirestoreCollections } from './firestore-session.ts';

/** Documents one transaction touches at most (Firestore's per-commit limits stay far away). */
export const TX_BATCH = 250;
const ATTEMPTS = { maxAttempts: 10 };

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Runs `write` in a transaction on each job of `fences` still running under its token; returns
 * the ids written. `write` returns the fields to update.
 */
export async function fenced(db: Firestore, c: FirestoreCollections, fences: readonly Fence[], write: (job: JobDoc) => Partial<JobDoc>): Promise<Set<string>> {
  const held = new Set<string>();
  for (const group of chunks(fences, TX_BATCH)) {
    const ids = await db.runTransaction(async (tx) => {
      const snaps = await tx.getAll(...group.map((f) => c.jobs.doc(docIdOf(f.id))));
      const done: string[] = [];
      snaps.forEach((snap, i) => {
        const job = readJob(snap);
        const f = group[i]!;
        if (!job || job.state !== 'running' || job.lease_token !== f.token) return;
        tx.update(snap.ref, write(job));
        done.push(f.id);
      });
      return done;
    }, ATTEMPTS);
    for (const id of ids) held.add(id);
  }
  return held;
}

export function completeJobs(db: Firestore, c: FirestoreCollections, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
  if (fences.length === 0) return Promise.resolve(new Set());
  const t = (now ?? new Date()).getTime();
  return fenced(db, c, fences, (job) => ({ ...enter(job, 'completed'), finalized_at: t, lease_expires_at: null }));
}

export async function failJob(db: Firestore, c: FirestoreCollections, p: FailParams): Promise<boolean> {
  const t = (p.now ?? new Date()).getTime();
  const write = (job: JobDoc): Partial<JobDoc> => {
    const out: Partial<JobDoc> = { ...enter(job, p.to), lease_expires_at: null };
    if (p.errorJson !== null) out.errors = JSON.stringify([...errorList(job), JSON.parse(p.errorJson) as unknown]);
    if (p.to === 'available') {
      out.run_at = t + p.delayMs;
      if (p.refundAttempt) out.attempt = job.attempt - 1;
    } else {
      out.finalized_at = t;
    }
    return out;
  };
  const held = await fenced(db, c, [p], write);
  if (held.size > 0) return true;
  if (!p.retried) return false;
  // An earlier try may have committed without an answer: the job in `to` under this token counts as written.
  const job = readJob(await c.jobs.doc(docIdOf(p.id)).get());
  return job !== null && job.state === p.to && job.lease_token === p.token;
}

export async function releaseJobs(db: Firestore, c: FirestoreCollections, fences: readonly Fence[]): Promise<number> {
  if (fences.length === 0) return 0;
  const held = await fenced(db, c, fences, (job) => ({ ...enter(job, 'available'), attempt: job.attempt - 1, lease_expires_at: null }));
  return held.size;
}

export function extendJobs(db: Firestore, c: FirestoreCollections, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
  if (fences.length === 0) return Promise.resolve(new Set());
  const t = (now ?? new Date()).getTime();
  return fenced(db, c, fences, () => ({ lease_expires_at: t + leaseMs }));
}

/** Returns up to `limit` jobs whose lease expired to `available`, or `discarded` when out of attempts. */
export async function rescueJobs(db: Firestore, c: FirestoreCollections, shards: number, errorJson: string, limit: number, now: Date | null): Promise<number> {
  if (limit <= 0) return 0;
  const t = (now ?? new Date()).getTime();
  const snap = await c.jobs
    .where('shard', 'in', allShards(shards))
    .where('state', '==', 'running')
    .where('lease_expires_at', '<', t)
    .orderBy('lease_expires_at')
    .limit(limit)
    .select()
    .get();
  let rescued = 0;
  const entry = JSON.parse(errorJson) as Record<string, unknown>;
  for (const group of chunks(snap.docs, TX_BATCH)) {
    rescued += await db.runTransaction(async (tx) => {
      const snaps = await tx.getAll(...group.map((d) => d.ref));
      let n = 0;
      for (const s of snaps) {
        const job = readJob(s);
        if (!job || job.state !== 'running' || job.lease_expires_at === null || job.lease_expires_at >= t) continue;
        const errors = JSON.stringify([...errorList(job), { ...entry, attempt: job.attempt }]);
        // run_at stays: the job keeps its place in the claim order (as on the SQL databases).
        if (job.attempt >= job.max_attempts) tx.update(s.ref, { ...enter(job, 'discarded'), finalized_at: t, lease_expires_at: null, errors });
        else tx.update(s.ref, { ...enter(job, 'available'), lease_expires_at: null, errors });
        n++;
      }
      return n;
    }, ATTEMPTS);
  }
  return rescued;
}

export { chunks };
