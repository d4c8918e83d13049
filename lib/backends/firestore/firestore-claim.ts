/**
 * Claiming on Firestore. A claim is two steps:
 *
 * 1. A plain query per queue (no transaction, so no locks) finds the first due jobs in claim
 *    order — priority, then run_at, then id — across every shard (`shard in […]`: Firestore
 *    merges the shards' index ranges in order).
 * 2. A short transaction re-reads those documents and the queues' pause markers, and takes a
 *    lease on each job still available, due, and in a queue not paused. Jobs another worker took
 *    in between are skipped, not waited for.
 *
 * Workers that race for the same documents make Firestore abort all but one of their
 * transactions; the SDK re-runs the loser, whose re-read then skips what the winner took. To
 * keep several workers from all asking for the same first jobs, a claim of `limit` jobs reads a
 * wider window of candidates and each worker takes a random part of it beyond the very first
 * ones (see `pick`): strict claim order holds for one worker; between racing workers it is
 * approximate within the window, as with SKIP LOCKED on SQL.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { DocumentReference, DocumentSnapshot, Firestore } from '@google-cloud/firestore';
import type { ClaimParams } from '../../backend/backend.ts';
import type { ClaimedJob } from '../../job.ts';
import { allShards, claimedOf, claimOrder, docIdOf, enter, readJob, type JobDoc } from './firestore-codec.ts';
import type { FirestoreCollections } from './firestore-session.ts';

/** Firestore accepts at most 30 values in one `in` filter. */
export const MAX_SHARDS = 30;
/** How many more candidates than asked for a claim reads, so racing workers can spread. */
const WINDOW = 2;

/**
 * Which candidates (in claim order) a claim tries to take: the first half of what it needs in
 * order, the rest drawn at random from the remaining window. One worker alone with a window no
 * larger than its limit takes exactly the first ones.
 */
export function pick<T>(candidates: readonly T[], limit: number): T[] {
  if (candidates.length <= limit) return [...candidates];
  const head = Math.ceil(limit / 2);
  const rest = candidates.slice(head);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [...candidates.slice(0, head), ...rest.slice(0, limit - head)];
}

/** The queues of `queues` whose pause marker is set, read through `get` (plain or transactional). */
export async function pausedAmong(get: (refs: DocumentReference[]) => Promise<DocumentSnapshot[]>, c: FirestoreCollections, queues: readonly string[]): Promise<Set<string>> {
  if (queues.length === 0) return new Set();
  const snaps = await get(queues.map((q) => c.queues.doc(q)));
  return new Set(snaps.filter((s) => s.get('paused') === true).map((s) => s.id));
}

export async function claimJobs(db: Firestore, c: FirestoreCollections, shards: number, p: ClaimParams): Promise<ClaimedJob[]> {
  if (p.limit <= 0 || p.queues.length === 0) return [];
  const t = (p.now ?? new Date()).getTime();
  const paused = await pausedAmong((refs) => db.getAll(...refs), c, p.queues);
  const open = p.queues.filter((q) => !paused.has(q));
  if (open.length === 0) return [];
  const window = Math.min(p.limit * WINDOW, p.limit + 100);
  const perQueue = await Promise.all(
    open.map(async (queue) => {
      const snap = await c.jobs
        .where('shard', 'in', allShards(shards))
        .where('queue', '==', queue)
        .where('state', '==', 'available')
        .where('run_at', '<=', t)
        .orderBy('priority')
        .orderBy('run_at')
        .orderBy('id')
        .limit(window)
        .select('id', 'priority', 'run_at')
        .get();
      return snap.docs.map((d) => ({ id: String(d.get('id')), priority: Number(d.get('priority')), run_at: Number(d.get('run_at')) }) as JobDoc);
    }),
  );
  const candidates = perQueue.flat().sort(claimOrder).slice(0, window);
  if (candidates.length === 0) return [];
  const chosen = pick(candidates, p.limit);
  const base = randomUUID();
  return db.runTransaction(
    async (tx) => {
      const refs = chosen.map((j) => c.jobs.doc(docIdOf(j.id)));
      const [snaps, pausedNow] = [await tx.getAll(...refs), await pausedAmong((r) => tx.getAll(...r), c, open)];
      const out: ClaimedJob[] = [];
      snaps.forEach((snap, i) => {
        const job = readJob(snap);
        if (!job || job.state !== 'available' || job.run_at > t || pausedNow.has(job.queue) || !open.includes(job.queue)) return;
        const taken: JobDoc = {
          ...job,
          ...enter(job, 'running'),
          attempt: job.attempt + 1,
          attempted_at: t,
          lease_token: `${base}.${i}`,
          locked_by: p.workerId,
          lease_expires_at: t + p.leaseMs,
        };
        tx.update(snap.ref, {
          state: taken.state,
          unique_key: taken.unique_key,
          attempt: taken.attempt,
          attempted_at: t,
          lease_token: taken.lease_token,
          locked_by: taken.locked_by,
          lease_expires_at: taken.lease_expires_at,
        });
        out.push(claimedOf(taken));
      });
      return out.sort((a, b) => a.priority - b.priority || a.runAt.getTime() - b.runAt.getTime() || (a.id < b.id ? -1 : 1));
    },
    { maxAttempts: 10 },
  );
}
