/**
 * Claiming on Firestore, without a transaction:
 *
 * 1. One query per queue finds the first due jobs in claim order — priority, then run_at, then
 *    id — across every shard (`shard in […]`: Firestore merges the shards' index ranges in order).
 * 2. The pause markers of the queues found are read (after the claim started, so a pause
 *    committed before it is honoured).
 * 3. Each chosen job is leased by an update that holds only if the document is unchanged since
 *    the query read it (firestore-cas.ts). A job another worker took in between is skipped, not
 *    waited for: nothing is locked, and a lost race costs no backoff.
 *
 * To keep several workers from all asking for the same first jobs, a claim of `limit` jobs reads
 * a window of up to twice as many candidates and takes the first half of its limit in order and
 * the rest at random from the window (see `pick`): strict claim order holds for a worker that
 * claims one job at a time; between racing workers it is approximate within the window, as with
 * SKIP LOCKED on SQL.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { ClaimParams } from '../../backend/backend.ts';
import type { ClaimedJob } from '../../job.ts';
import { allShards, claimedOf, claimOrder, enter, readJob, type JobDoc } from './firestore-codec.ts';
import { casUpdate } from './firestore-cas.ts';
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

export async function claimJobs(db: Firestore, c: FirestoreCollections, shards: number, p: ClaimParams): Promise<ClaimedJob[]> {
  if (p.limit <= 0 || p.queues.length === 0) return [];
  const t = (p.now ?? new Date()).getTime();
  // Pause markers are read only inside the transaction, for the queues that have candidates: an
  // idle claim costs one query per queue and nothing else (workers also leave out the queues they know are paused).
  const window = Math.min(p.limit * WINDOW, p.limit + 100);
  const perQueue = await Promise.all(
    p.queues.map(async (queue) => {
      const snap = await c.jobs
        .where('shard', 'in', allShards(shards))
        .where('queue', '==', queue)
        .where('state', '==', 'available')
        .where('run_at', '<=', t)
        .orderBy('priority')
        .orderBy('run_at')
        .orderBy('id')
        .limit(window)
        .get();
      return snap.docs.map((d) => ({ snap: d, job: readJob(d)! }));
    }),
  );
  const candidates = perQueue.flat().sort((a, b) => claimOrder(a.job, b.job)).slice(0, window);
  if (candidates.length === 0) return [];
  const chosen = pick(candidates, p.limit);
  // Read after the claim started: a pause committed before it is seen (one read per queue with candidates).
  const queues = [...new Set(chosen.map((x) => x.job.queue))];
  const markers = await db.getAll(...queues.map((q) => c.queues.doc(q)));
  const paused = new Set(markers.filter((m) => m.get('paused') === true).map((m) => m.id));
  const base = randomUUID();
  const taken = await Promise.all(
    chosen.map(async ({ snap, job }, i): Promise<ClaimedJob | null> => {
      if (paused.has(job.queue)) return null;
      const lease: Partial<JobDoc> = {
        ...enter(job, 'running'),
        attempt: job.attempt + 1,
        attempted_at: t,
        lease_token: `${base}.${i}`,
        locked_by: p.workerId,
        lease_expires_at: t + p.leaseMs,
      };
      // The query's snapshot showed it available and due; the precondition makes sure it still is.
      return (await casUpdate(snap, lease)) ? claimedOf({ ...job, ...lease }) : null;
    }),
  );
  return taken.filter((j): j is ClaimedJob => j !== null);
}
