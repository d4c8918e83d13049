/**
 * Walking a jobs collection in id order, for inspection: one query per state (`shard in […]`,
 * `state ==`, ordered by id, index `(shard, state, id)`) — or per queue and state when the walk
 * names its queues — read a page at a time and merged, so a walk reads only as many documents
 * as its caller consumes (plus at most one page per query).
 *
 * @internal
 */
import type { Query } from '@google-cloud/firestore';
import type { JobState } from '../../job.ts';
import { allShards, readJob, type JobDoc } from './firestore-codec.ts';
import type { FirestoreCollections } from './firestore-session.ts';

export interface ScanOptions {
  states: readonly JobState[];
  /** `desc`: newest first; `asc`: oldest first. */
  order: 'asc' | 'desc';
  /** Start strictly after this id (in walk order). */
  after: string | null;
  /** Documents per query; the walk asks for more as it is consumed. */
  page: number;
  /** Only these queues (null: every queue), one query per queue and state (index `(shard, queue, state, id)`). */
  queues?: readonly string[] | null;
}

interface Stream {
  buf: JobDoc[];
  after: string | null;
  exhausted: boolean;
  query: Query;
}

/** The documents of `states`, merged in id order. */
export async function* scanJobs(c: FirestoreCollections, shards: number, o: ScanOptions): AsyncGenerator<JobDoc> {
  const page = Math.max(1, Math.min(o.page, 1_000));
  const base = c.jobs.where('shard', 'in', allShards(shards));
  const byQueue = o.queues ? o.queues.map((q) => base.where('queue', '==', q)) : [base];
  const streams: Stream[] = byQueue.flatMap((q) => o.states.map((state) => ({ buf: [], after: o.after, exhausted: false, query: q.where('state', '==', state) })));
  const fill = async (st: Stream): Promise<void> => {
    if (st.buf.length > 0 || st.exhausted) return;
    let q = st.query;
    if (st.after !== null) q = q.where('id', o.order === 'desc' ? '<' : '>', st.after);
    const snap = await q.orderBy('id', o.order).limit(page).get();
    st.buf = snap.docs.map((d) => readJob(d)!);
    if (snap.size < page) st.exhausted = true;
    const last = st.buf.at(-1);
    if (last) st.after = last.id;
  };
  const before = (a: string, b: string): boolean => (o.order === 'desc' ? a > b : a < b);
  for (;;) {
    await Promise.all(streams.map(fill));
    let best: Stream | null = null;
    for (const st of streams) if (st.buf.length > 0 && (best === null || before(st.buf[0]!.id, best.buf[0]!.id))) best = st;
    if (best === null) return;
    yield best.buf.shift()!;
  }
}

/** The distinct queues of the collection, one document read per queue (a skip scan over `(shard, queue)`). */
export async function distinctQueues(c: FirestoreCollections, shards: number): Promise<string[]> {
  const out: string[] = [];
  let last: string | null = null;
  for (let i = 0; i < 100_000; i++) {
    let q = c.jobs.where('shard', 'in', allShards(shards));
    if (last !== null) q = q.where('queue', '>', last);
    const snap = await q.orderBy('queue').limit(1).select('queue').get();
    const doc = snap.docs[0];
    if (!doc) break;
    last = String(doc.get('queue'));
    out.push(last);
  }
  return out;
}
