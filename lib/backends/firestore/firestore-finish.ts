/**
 * The end of a run, fenced: completion, failure (retry, snooze, cancel, discard), release at
 * shutdown, heartbeats, and the rescue of jobs whose lease expired. Each reads the jobs and
 * writes only those still `running` under the run's lease token, by a compare-and-set on what it
 * read, so a stale run (its lease lost and the job claimed again) never overwrites the newer one.
 *
 * @internal
 */
import type { Firestore } from '@google-cloud/firestore';
import type { FailParams } from '../../backend/backend.ts';
import type { Fence } from '../../job.ts';
import { casUpdate, casUpdateAll } from './firestore-cas.ts';
import { allShards, docIdOf, enter, errorList, readJob, type JobDoc } from './firestore-codec.ts';
import type { FirestoreCollections } from './firestore-session.ts';

/** Documents one read (or transaction) handles at most. */
export const TX_BATCH = 250;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Writes `write(job)` to each job of `fences` still running under its token, each by a
 * compare-and-set on the document as just read (a write that lost a race to a cancel or a rescue
 * is refused); returns the ids written.
 */
export async function fenced(db: Firestore, c: FirestoreCollections, fences: readonly Fence[], write: (job: JobDoc) => Partial<JobDoc>): Promise<Set<string>> {
  const held = new Set<string>();
  for (const group of chunks(fences, TX_BATCH)) {
    const snaps = await db.getAll(...group.map((f) => c.jobs.doc(docIdOf(f.id))));
    const writes: { snap: (typeof snaps)[number]; data: Partial<JobDoc>; id: string }[] = [];
    snaps.forEach((snap, i) => {
      const job = readJob(snap);
      const f = group[i]!;
      if (job && job.state === 'running' && job.lease_token === f.token) writes.push({ snap, data: write(job), id: f.id });
    });
    const ok = await casUpdateAll(db, writes);
    const done = writes.map((w, i) => (ok[i] ? w.id : null));
    for (const id of done) if (id !== null) held.add(id);
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
    .get();
  const entry = JSON.parse(errorJson) as Record<string, unknown>;
  const done = await Promise.all(
    snap.docs.map(async (s) => {
      const job = readJob(s)!;
      const errors = JSON.stringify([...errorList(job), { ...entry, attempt: job.attempt }]);
      // run_at stays: the job keeps its place in the claim order (as on the SQL databases).
      const write: Partial<JobDoc> =
        job.attempt >= job.max_attempts ? { ...enter(job, 'discarded'), finalized_at: t, lease_expires_at: null, errors } : { ...enter(job, 'available'), lease_expires_at: null, errors };
      return casUpdate(s, write);
    }),
  );
  const rescued = done.filter(Boolean).length;
  return rescued;
}

export { chunks };
