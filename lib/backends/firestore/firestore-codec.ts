/**
 * How a job is laid out as a Firestore document, and how its document is named.
 *
 * Job ids are UUIDv7 (time first, so they sort by creation as text: keyset pages, "newest
 * first", claim ties). A document named by such an id would put every new document at the end
 * of the collection's key range, one hot tablet; the document name leads with the id's last
 * four (random) hex digits instead, so inserts land all over the key range. The mapping is pure:
 * a job id names exactly one document, found without a query.
 *
 * Every indexed query also filters on `shard` (0 … shards − 1, from the id's random bits) and
 * every composite index starts with it: index entries of fields that grow with time (`id`,
 * `run_at`, `finalized_at`, `lease_expires_at`) are then written at `shards` separate places
 * instead of one. See firestore-indexes.ts.
 *
 * Args, metadata and errors are stored as JSON text: Firestore maps cannot hold every JSON value
 * (arrays of arrays), and text round-trips exactly. Times are epoch milliseconds (integers).
 *
 * @internal
 */
import type { DocumentData, DocumentSnapshot } from '@google-cloud/firestore';
import { STATE_BITS, type ClaimedJob, type InsertRow, type JobState } from '../../job.ts';
import type { ListedJob } from '../../backend/backend.ts';

/** A job document's fields, as stored. */
export interface JobDoc {
  id: string;
  shard: number;
  queue: string;
  kind: string;
  args: string;
  state: JobState;
  priority: number;
  attempt: number;
  max_attempts: number;
  run_at: number;
  attempted_at: number | null;
  finalized_at: number | null;
  created_at: number;
  lease_token: string | null;
  locked_by: string | null;
  lease_expires_at: number | null;
  /** JSON text of the error entries, or null for none. */
  errors: string | null;
  metadata: string | null;
  unique_key: string | null;
  unique_states: number | null;
}

/** The name of the document of job `id`: its random tail first (see above). */
export function docIdOf(id: string): string {
  return `${id.slice(-4)}-${id}`;
}

/** The shard of job `id`: from the id's random bits, so it is known without reading the job. */
export function shardOf(id: string, shards: number): number {
  return parseInt(id.slice(-6, -4), 16) % shards;
}

/** The list of every shard, for `shard in […]` filters. */
export function allShards(shards: number): number[] {
  return Array.from({ length: shards }, (_, i) => i);
}

/** A new job document. */
export function newJobDoc(r: InsertRow, id: string, nowMs: number, shards: number): JobDoc {
  return {
    id,
    shard: shardOf(id, shards),
    queue: r.queue,
    kind: r.kind,
    args: r.argsJson,
    state: 'available',
    priority: r.priority,
    attempt: 0,
    max_attempts: r.maxAttempts,
    run_at: r.runAt ? r.runAt.getTime() : nowMs + r.delayMs,
    attempted_at: null,
    finalized_at: null,
    created_at: nowMs,
    lease_token: null,
    locked_by: null,
    lease_expires_at: null,
    errors: null,
    metadata: r.metadataJson,
    unique_key: null,
    unique_states: null,
  };
}

/** The document's fields, typed (documents written by hand may lack some: defaults fill them). */
export function readJob(snap: DocumentSnapshot): JobDoc | null {
  const d = snap.data() as (DocumentData & Partial<JobDoc>) | undefined;
  if (!d) return null;
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
  const opt = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    id: typeof d.id === 'string' ? d.id : snap.id,
    shard: num(d.shard, 0),
    queue: String(d.queue ?? ''),
    kind: String(d.kind ?? ''),
    args: typeof d.args === 'string' ? d.args : JSON.stringify(d.args ?? null),
    state: (d.state ?? 'available') as JobState,
    priority: num(d.priority, 0),
    attempt: num(d.attempt, 0),
    max_attempts: num(d.max_attempts, 20),
    run_at: num(d.run_at, 0),
    attempted_at: opt(d.attempted_at),
    finalized_at: opt(d.finalized_at),
    created_at: num(d.created_at, 0),
    lease_token: text(d.lease_token),
    locked_by: text(d.locked_by),
    lease_expires_at: opt(d.lease_expires_at),
    errors: text(d.errors),
    metadata: text(d.metadata),
    unique_key: text(d.unique_key),
    unique_states: opt(d.unique_states),
  };
}

/** The fields to write when a job enters `state`: its unique key goes when the key does not cover that state. */
export function enter(job: JobDoc, state: JobState): Partial<JobDoc> {
  const out: Partial<JobDoc> = { state };
  if (job.unique_states !== null && job.unique_key !== null && (job.unique_states & STATE_BITS[state]) === 0) out.unique_key = null;
  return out;
}

/** The error entries as stored (a list), for appending. */
export function errorList(job: JobDoc): unknown[] {
  if (job.errors === null) return [];
  try {
    const v = JSON.parse(job.errors) as unknown;
    return Array.isArray(v) ? v : [v];
  } catch {
    return [job.errors];
  }
}

export function claimedOf(j: JobDoc): ClaimedJob {
  return {
    id: j.id,
    queue: j.queue,
    kind: j.kind,
    args: j.args,
    metadata: j.metadata,
    attempt: j.attempt,
    maxAttempts: j.max_attempts,
    priority: j.priority,
    runAt: new Date(j.run_at),
    createdAt: new Date(j.created_at),
    leaseToken: j.lease_token ?? '',
  };
}

function json(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function listedOf(j: JobDoc): ListedJob {
  return {
    id: j.id,
    queue: j.queue,
    kind: j.kind,
    state: j.state,
    args: json(j.args),
    metadata: json(j.metadata),
    errors: json(j.errors),
    priority: j.priority,
    attempt: j.attempt,
    maxAttempts: j.max_attempts,
    runAt: new Date(j.run_at),
    createdAt: new Date(j.created_at),
    finalizedAt: j.finalized_at === null ? null : new Date(j.finalized_at),
  };
}

/** Claim order: priority, then run_at, then id. */
export function claimOrder(a: JobDoc, b: JobDoc): number {
  return a.priority - b.priority || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
