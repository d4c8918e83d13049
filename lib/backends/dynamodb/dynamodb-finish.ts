/**
 * The end of a run on DynamoDB: completion, failure, release, heartbeat and rescue, each a
 * conditional update fenced on the lease token (`st = running AND lt = :token`), so a stale run
 * whose lease was taken over changes nothing. Also the operator's cancel, retry and prune.
 *
 * @internal
 */
import type { FailParams, PruneParams, RetryResult } from '../../backend/backend.ts';
import { STATE_BITS, type Fence, type JobState } from '../../job.ts';
import type { DynamoOps } from './dynamodb-ops.ts';
import { decodeJob, N, S, transition, type Item, type JobItem } from './item-codec.ts';
import { INDEX } from './table-definition.ts';

const FENCE = 'st = :running AND lt = :tok';

function fenceValues(f: Fence): Item {
  return { ':running': S('running'), ':tok': S(f.token) };
}

/** The job's current item (strongly consistent), decoded, or null. */
export async function readJob(ops: DynamoOps, id: string): Promise<JobItem | null> {
  const item = await ops.get(`j#${id}`, true);
  return item ? decodeJob(item) : null;
}

/**
 * Runs `fn` on each item, at most `limit` at a time: a batch of a thousand fences would
 * otherwise open a thousand requests at once and wait on the client's socket pool.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Requests a batch of fenced writes keeps in flight. */
export const FENCE_LANES = 16;

/**
 * Marks each fenced job completed. A write that fails without an answer (a lost connection, a
 * throttle after the SDK's own retries) is tried again here, and a retry whose condition fails
 * counts as done when the job is completed under this very token: the earlier try committed.
 * So one flaky request never fails the whole batch (whose other jobs would then run again).
 */
export async function completeFences(ops: DynamoOps, shards: number, fences: readonly Fence[], now: number): Promise<Set<string>> {
  const done = new Set<string>();
  await eachLimited(fences, FENCE_LANES, async (f) => {
    // Only the id is needed to move a finished job's index attributes.
    const t = transition({ id: f.id, queue: '', priority: 0, runAt: 0 }, 'completed', shards, now, fenceValues(f));
    for (let attempt = 1; ; attempt++) {
      try {
        if (await ops.update(`j#${f.id}`, t.expression, FENCE, t.values)) done.add(f.id);
        else if (attempt > 1) {
          const j = await readJob(ops, f.id);
          if (j?.state === 'completed' && j.leaseToken === f.token) done.add(f.id);
        }
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  });
  return done;
}

/** The error list grows by one entry (list_append on a missing list starts one). */
const APPEND_ERROR = 'er = list_append(if_not_exists(er, :no_errors), :error)';

export async function failFence(ops: DynamoOps, shards: number, p: FailParams): Promise<boolean> {
  const now = (p.now ?? new Date()).getTime();
  // A failure back to `available` needs the job's queue and priority for its index keys.
  const j = await readJob(ops, p.id);
  if (!j) return false;
  const set: string[] = [];
  const values: Item = fenceValues(p);
  if (p.errorJson !== null) {
    set.push(APPEND_ERROR);
    values[':no_errors'] = { L: [] };
    values[':error'] = { L: [S(p.errorJson)] };
  }
  let runAt: number | undefined;
  if (p.to === 'available') {
    runAt = now + p.delayMs;
    set.push('ra = :ra');
    values[':ra'] = N(runAt);
    if (p.refundAttempt) {
      set.push('tn = tn - :one');
      values[':one'] = N(1);
    }
  }
  const t = transition(j, p.to, shards, now, values, { set, ...(runAt !== undefined && { runAt }) });
  if (await ops.update(`j#${p.id}`, t.expression, FENCE, t.values)) return true;
  if (!p.retried) return false;
  // An earlier try may have committed without an answer: it counts if the job is where it sent it, under this token.
  const after = await readJob(ops, p.id);
  return after !== null && after.state === p.to && after.leaseToken === p.token;
}

export async function releaseFences(ops: DynamoOps, shards: number, fences: readonly Fence[], now: number): Promise<number> {
  let n = 0;
  await eachLimited(fences, FENCE_LANES, async (f) => {
    const j = await readJob(ops, f.id);
    if (!j || j.state !== 'running' || j.leaseToken !== f.token) return;
    // run_at stays: the job keeps its place in the claim order.
    const t = transition(j, 'available', shards, now, { ...fenceValues(f), ':one': N(1) }, { set: ['tn = tn - :one'] });
    if (await ops.update(`j#${f.id}`, t.expression, FENCE, t.values)) n++;
  });
  return n;
}

export async function extendFences(ops: DynamoOps, fences: readonly Fence[], leaseMs: number, now: number): Promise<Set<string>> {
  const held = new Set<string>();
  await eachLimited(fences, FENCE_LANES, async (f) => {
    if (await ops.update(`j#${f.id}`, 'SET le = :le', FENCE, { ...fenceValues(f), ':le': N(now + leaseMs) })) held.add(f.id);
  });
  return held;
}

/** Returns jobs whose lease expired before `now` to `available` (or `discarded` when out of attempts), reading the `lease` index shard by shard. */
export async function rescueExpired(ops: DynamoOps, shards: number, errorJson: string, limit: number, now: number): Promise<number> {
  let n = 0;
  for (let shard = 0; shard < shards && n < limit; shard++) {
    const expired = await ops.query(
      { IndexName: INDEX.lease, KeyConditionExpression: 'lp = :lp AND le < :now', ExpressionAttributeValues: { ':lp': S(String(shard)), ':now': N(now) } },
      limit - n,
    );
    for (const entry of expired) {
      const id = (entry['pk']?.S ?? '').slice(2);
      const j = await readJob(ops, id);
      if (!j || j.state !== 'running' || j.leaseToken === null || j.leaseExpiresAt === null || j.leaseExpiresAt >= now) continue;
      const entryJson = JSON.stringify({ ...(JSON.parse(errorJson) as object), attempt: j.attempt });
      const to: JobState = j.attempt >= j.maxAttempts ? 'discarded' : 'available';
      // run_at stays: the job keeps its place in the claim order (as on the SQL databases).
      const t = transition(j, to, shards, now, { ':running': S('running'), ':tok': S(j.leaseToken), ':now': N(now), ':no_errors': { L: [] }, ':error': { L: [S(entryJson)] } }, { set: [APPEND_ERROR] });
      if (await ops.update(`j#${id}`, t.expression, `${FENCE} AND le < :now`, t.values)) n++;
    }
  }
  return n;
}

export async function pruneFinished(ops: DynamoOps, shards: number, p: PruneParams): Promise<number> {
  const cutoff = (p.now ?? new Date()).getTime() - p.olderThanMs;
  let n = 0;
  for (let shard = 0; shard < shards && n < p.limit; shard++) {
    const old = await ops.query(
      { IndexName: INDEX.fin, KeyConditionExpression: 'fp = :fp AND fa < :cutoff', ExpressionAttributeValues: { ':fp': S(`${p.state}#${shard}`), ':cutoff': N(cutoff) } },
      p.limit - n,
    );
    const deleted = await Promise.all(old.map((e) => ops.deleteJob(e['pk']!.S!.slice(2), 'st = :st AND fa < :cutoff', { ':st': S(p.state), ':cutoff': N(cutoff) })));
    n += deleted.filter(Boolean).length;
  }
  return n;
}

/** Cancels a job that has not finished; the condition pins the state (and lease) it was read in. */
export async function cancelJob(ops: DynamoOps, shards: number, id: string, now: number): Promise<boolean> {
  const j = await readJob(ops, id);
  if (!j || (j.state !== 'available' && j.state !== 'running')) return false;
  return (await moveFrom(ops, shards, j, 'cancelled', now)) !== null;
}

/**
 * Moves `j` to a final state from the state (and, for a running job, the lease token and run
 * time) it was read in: anything that changed meanwhile makes it a no-op.
 */
export async function moveFrom(ops: DynamoOps, shards: number, j: JobItem, to: JobState, now: number): Promise<Item | null> {
  const values: Item = { ':from': S(j.state) };
  let condition = 'st = :from';
  if (j.leaseToken !== null) {
    condition += ' AND lt = :seen_tok';
    values[':seen_tok'] = S(j.leaseToken);
  } else condition += ' AND attribute_not_exists(lt)';
  const t = transition(j, to, shards, now, values, { remove: ['lp', 'le'] });
  return ops.update(`j#${j.id}`, t.expression, condition, t.values);
}

/**
 * Puts a finished job back to `available`, due now, attempt count reset (errors kept). A key its
 * mask does not cover in the state it leaves was released then: it is dropped for good.
 */
export async function retryJob(ops: DynamoOps, shards: number, j: JobItem, now: number): Promise<boolean> {
  const remove = ['fa', 'fp', 'lp', 'le'];
  if (j.uniqueKey !== null && (j.uniqueStates === null || (j.uniqueStates & STATE_BITS[j.state]) === 0)) remove.push('uk');
  const t = transition(j, 'available', shards, now, { ':from': S(j.state), ':zero': N(0), ':ra': N(now) }, { runAt: now, set: ['tn = :zero', 'ra = :ra'], remove });
  return (await ops.update(`j#${j.id}`, t.expression, 'st = :from', t.values)) !== null;
}

export async function retryById(ops: DynamoOps, shards: number, id: string, now: number): Promise<RetryResult> {
  const j = await readJob(ops, id);
  if (!j) return { retried: false, state: null };
  if (j.state !== 'discarded' && j.state !== 'cancelled') return { retried: false, state: j.state };
  if (await retryJob(ops, shards, j, now)) return { retried: true, state: 'available' };
  const after = await readJob(ops, id);
  return { retried: false, state: after?.state ?? null };
}
