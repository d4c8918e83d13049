/**
 * Claiming on Firestore, without a transaction:
 *
 * 1. One query per queue finds the first due jobs in claim order — priority, then run_at, then
 *    id — in one shard; more shards are read in turn (from a random one, so racing workers start
 *    in different places) until the window of candidates is full. With one shard (the default)
 *    the claim order is exact; with several it is exact within each shard, and a worker serves
 *    the shard it is reading first (see the README's scale-out section for when to shard).
 * 2. The pause markers of the queues found are read (after the claim started, so a pause
 *    committed before it is honoured).
 * 3. Each chosen job is leased by an update that holds only if the document is unchanged since
 *    the query read it (firestore-cas.ts). A job another worker took in between is skipped, not
 *    waited for: nothing is locked, and a lost race costs no backoff.
 *
 * To keep several workers from all asking for the same first jobs, a claim of `limit` jobs reads
 * a window of up to twice as many candidates and takes the first half of its limit in order and
 * the rest at random from the window (see `pick`): a worker that claims one job at a time takes
 * the very first; between racing workers the order is approximate within the window, as with
 * SKIP LOCKED on SQL.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Firestore, QueryDocumentSnapshot } from '@google-cloud/firestore';
import type { ClaimParams } from '../../backend/backend.ts';
import type { ClaimedJob } from '../../job.ts';
import { claimedOf, claimOrder, enter, readJob, type JobDoc } from './firestore-codec.ts';
import { casUpdateAll } from './firestore-cas.ts';
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
  const window = Math.min(p.limit * WINDOW, p.limit + 100);
  // Shards in turn from a random one, until the window is full: racing workers start in
  // different places. With one shard (the default) this is one query per queue, in exact order.
  const start = Math.floor(Math.random() * shards);
  const found: { snap: QueryDocumentSnapshot; job: JobDoc }[] = [];
  for (let k = 0; k < shards && found.length < window; k++) {
    const shard = (start + k) % shards;
    const perQueue = await Promise.all(
      p.queues.map(async (queue) => {
        const snap = await c.jobs
          .where('shard', '==', shard)
          .where('queue', '==', queue)
          .where('state', '==', 'available')
          .where('run_at', '<=', t)
          .orderBy('priority')
          .orderBy('run_at')
          .orderBy('id')
          .limit(window - found.length)
          .get();
        return snap.docs.map((d) => ({ snap: d, job: readJob(d)! }));
      }),
    );
    // Across queues, the shard's first jobs in claim order.
    found.push(...perQueue.flat().sort((a, b) => claimOrder(a.job, b.job)).slice(0, window - found.length));
  }
  const candidates = found;
  if (candidates.length === 0) return [];
  const chosen = pick(candidates, p.limit);
  // Read after the claim started: a pause committed before it is seen (one read per queue with candidates).
  const queues = [...new Set(chosen.map((x) => x.job.queue))];
  const markers = await db.getAll(...queues.map((q) => c.queues.doc(q)));
  const paused = new Set(markers.filter((m) => m.get('paused') === true).map((m) => m.id));
  const base = randomUUID();
  const leases = chosen
    .filter(({ job }) => !paused.has(job.queue))
    .map(({ snap, job }, i) => {
      const data: Partial<JobDoc> = {
        ...enter(job, 'running'),
        attempt: job.attempt + 1,
        attempted_at: t,
        lease_token: `${base}.${i}`,
        locked_by: p.workerId,
        lease_expires_at: t + p.leaseMs,
      };
      return { snap, data, job };
    });
  // The query's snapshot showed each available and due; the precondition makes sure it still is.
  const held = await casUpdateAll(db, leases);
  const taken = leases.map((l, i) => (held[i] ? claimedOf({ ...l.job, ...l.data }) : null));
  return taken.filter((j): j is ClaimedJob => j !== null);
}
