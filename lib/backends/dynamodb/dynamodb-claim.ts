/**
 * Claiming on DynamoDB: there are no interactive transactions, so a claim reads candidates from
 * the `ready` index and takes each with a conditional update (state still `available`, still in
 * the ready index). The index is eventually consistent and other workers race for the same
 * candidates: the conditional write is the only source of truth, and a lost race just moves on
 * to the next candidate.
 *
 * Order: each `(queue, shard)` partition of `ready` is sorted by priority, run_at, id. A claim
 * reads the first `limit` of `fanout` shards of each queue (all of them by default), merges
 * them, and takes candidates in that order, so with every shard read the order is exactly the
 * SQL order. With more shards than `fanout`, each claim starts at the next shard in turn
 * and the order is kept within the shards it read.
 *
 * Scheduled jobs sit in `sched`, sorted by run_at: a claim reads only the due part of it (a key
 * condition, so jobs due later are never read) and promotes those into `ready` first.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { ClaimParams } from '../../backend/backend.ts';
import { STATE_BITS, type ClaimedJob } from '../../job.ts';
import type { DynamoOps } from './dynamodb-ops.ts';
import { decodeJob, N, S, transition, type Item } from './item-codec.ts';
import { INDEX, msText, PAUSED_PK, shardOf } from './table-definition.ts';

export interface ClaimConfig {
  shards: number;
  fanout: number;
  /** When (claim time) each queue's due scheduled jobs were last promoted by this process. */
  promoted: Map<string, number>;
}

/**
 * A queue's `sched` partitions are read at most this often (by the claims' clock) per process:
 * an idle poll then costs the pause read and one query per shard, and a scheduled job starts at
 * most this late. A clock that moves backwards (or jumps ahead) promotes at once.
 */
export const PROMOTE_EVERY_MS = 250;

/** Conditional writes one claim keeps in flight. */
const CLAIM_LANES = 16;

/** The queues paused now (a strongly consistent read of the pause marker). */
export async function pausedSet(ops: DynamoOps): Promise<Set<string>> {
  const item = await ops.get(PAUSED_PK, true);
  return new Set(item?.['qs']?.SS ?? []);
}

/** The shards one claim reads, starting at a rotating offset. */
function shardsToRead(cfg: ClaimConfig, turn: number): number[] {
  const n = Math.min(cfg.fanout, cfg.shards);
  return Array.from({ length: n }, (_, i) => (turn + i) % cfg.shards);
}

/** Moves the jobs of `queue` whose run_at has come from `sched` to `ready` (up to `limit` per shard). */
async function promote(ops: DynamoOps, cfg: ClaimConfig, queue: string, shards: number[], limit: number, now: number): Promise<void> {
  await Promise.all(
    shards.map(async (shard) => {
      const due = await ops.query(
        {
          IndexName: INDEX.sched,
          KeyConditionExpression: 'sp = :sp AND ss < :upper',
          ExpressionAttributeValues: { ':sp': S(`${queue}#${shard}`), ':upper': S(msText(now + 1)) },
        },
        limit,
      );
      await Promise.all(
        due.map(async (entry) => {
          const [runAt, prio, id] = (entry['ss']?.S ?? '').split('#');
          if (!id) return;
          const j = { id, queue, priority: Number(prio) - 1000, runAt: Number(runAt) };
          const t = transition(j, 'available', cfg.shards, now, {});
          // Only while it is still waiting in `sched` (not cancelled, claimed or moved meanwhile).
          await ops.update(`j#${id}`, t.expression, 'st = :avail AND attribute_exists(sp)', { ...t.values, ':avail': S('available') });
        }),
      );
    }),
  );
}

/**
 * Claims up to `limit` due jobs of the (unpaused) `queues` for one worker. `turn` rotates the
 * first shard read when a claim reads fewer shards than there are.
 */
export async function claimJobs(ops: DynamoOps, cfg: ClaimConfig, p: ClaimParams, turn: number): Promise<ClaimedJob[]> {
  if (p.limit <= 0 || p.queues.length === 0) return [];
  // Every lease of this claim runs from `now`: a claim that takes long (many lost races on a
  // busy queue, a slow store) stops taking jobs after a tenth of the lease, so each job it
  // hands out still has most of its lease ahead.
  const deadline = performance.now() + p.leaseMs / 10;
  const paused = await pausedSet(ops);
  const queues = [...new Set(p.queues)].filter((q) => !paused.has(q));
  if (queues.length === 0) return [];
  const now = (p.now ?? new Date()).getTime();
  const shards = shardsToRead(cfg, turn);
  const stale = queues.filter((q) => {
    const last = cfg.promoted.get(q);
    return last === undefined || now < last || now - last >= PROMOTE_EVERY_MS;
  });
  for (const q of stale) cfg.promoted.set(q, now);
  await Promise.all(stale.map((q) => promote(ops, cfg, q, shards, p.limit, now)));
  const reads = await Promise.all(
    queues.flatMap((q) =>
      shards.map((shard) =>
        ops.query({ IndexName: INDEX.ready, KeyConditionExpression: 'rp = :rp', ExpressionAttributeValues: { ':rp': S(`${q}#${shard}`) } }, p.limit),
      ),
    ),
  );
  const nowText = msText(now);
  // rs is `<priority>#<run_at>#<id>`: sorting the texts is the claim order. A job put in `ready`
  // by a process whose clock runs ahead may not be due yet by ours: it waits.
  const candidates = reads
    .flat()
    .map((e) => e['rs']?.S ?? '')
    .filter((rs) => rs !== '' && rs.slice(5, 20) <= nowText)
    .sort();
  const claimed: { rank: number; job: ClaimedJob }[] = [];
  const base = randomUUID();
  let next = 0;
  let inFlight = 0;
  // Candidates in order, a few lanes at a time, never more in flight than are still wanted:
  // a lost race makes room for the next candidate, and a claim never takes more than `limit`.
  const lane = async (): Promise<void> => {
    while (claimed.length + inFlight < p.limit && next < candidates.length && performance.now() < deadline) {
      const rank = next++;
      inFlight++;
      try {
        const job = await takeOne(ops, cfg, candidates[rank]!, p, now, `${base}.${rank}`);
        if (job) claimed.push({ rank, job });
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLAIM_LANES, p.limit) }, lane));
  return claimed.sort((a, b) => a.rank - b.rank).map((c) => c.job);
}

/** Takes one candidate under a lease, or null when another worker (or a cancel) got there first. */
async function takeOne(ops: DynamoOps, cfg: ClaimConfig, rs: string, p: ClaimParams, now: number, token: string): Promise<ClaimedJob | null> {
  const id = rs.slice(21);
  const t = transition({ id, queue: '', priority: 0, runAt: now }, 'running', cfg.shards, now, {}, {
    set: ['tn = tn + :one', 'aa = :now', 'lt = :tok', 'lb = :worker', 'le = :le', 'lp = :lp'],
  });
  const values: Item = { ...t.values, ':one': N(1), ':now': N(now), ':tok': S(token), ':worker': S(p.workerId), ':le': N(now + p.leaseMs), ':lp': S(String(shardOf(id, cfg.shards))), ':avail': S('available') };
  const item = await ops.update(`j#${id}`, t.expression, 'st = :avail AND attribute_exists(rp)', values);
  if (!item) return null;
  const j = decodeJob(item);
  // A key that does not cover `running` is released at the claim, as on SQL (where the column is cleared).
  if (j.uniqueKey !== null && j.uniqueStates !== null && (j.uniqueStates & STATE_BITS.running) === 0) {
    await ops.update(`j#${id}`, 'REMOVE uk', 'lt = :tok', { ':tok': S(token) });
  }
  return {
    id,
    queue: j.queue,
    kind: j.kind,
    args: j.args,
    metadata: j.metadata,
    attempt: j.attempt,
    maxAttempts: j.maxAttempts,
    priority: j.priority,
    runAt: new Date(j.runAt),
    createdAt: new Date(j.createdAt),
    leaseToken: token,
  };
}
