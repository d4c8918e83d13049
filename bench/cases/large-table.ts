/**
 * Large-table claim latency (PostgreSQL): does a table holding a long history of finished jobs
 * slow the claim down? Retention keeps completed jobs for a day by default, so a busy queue
 * carries hundreds of thousands of finished rows next to the few it still has to run. The claim
 * index leads with `state`, so finished rows sit in other index ranges and the claim should stay
 * flat; this case measures it, next to a table with no history (same case, `finished: 0`).
 *
 * Setup, not measured: `finished` rows in state `completed` (finalized within the last hour,
 * younger than the default one-day retention, so the worker's pruning never touches them), then
 * the `available` jobs, each with one INSERT … SELECT generate_series, then VACUUM ANALYZE so
 * the planner has statistics and the visibility map is set, as autovacuum would leave a table
 * that has been sitting.
 *
 * Two measured phases on the same table, each over `available` fresh jobs:
 *
 *  1. Claim statement latency: the real Concordia claim through the dialect API
 *     (`jobs.backend.claim`, the statement the worker runs), 10 jobs at a time (the default
 *     concurrency), sequentially, each batch completed through `dialect.complete` before the
 *     next claim, until the queue is empty. Only the claim call is timed: one round trip, no
 *     other traffic in this process, so p50/p99 are the statement's own.
 *  2. Drain: a stock Concordia worker with default settings drains a second batch of
 *     `available` jobs (inserted and vacuumed between the phases, so phase 1's dead rows do not
 *     carry over); jobs/s until the database confirms none is left. The dialect's claim is also
 *     timed here (a wrapper around the worker's own calls), which adds the event-loop wait of a
 *     busy process to the statement: reported as "in-drain" claim latency.
 */
import type pg from 'pg';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { createJobs, defineJob } from '../../lib/index.ts';
import { jobsDdl, Meter, percentile, pgPool, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

/** Rows per claim in phase 1: the engine's default concurrency, so what a default worker asks for. */
const CLAIM_BATCH = 10;

export async function run(spec: CaseSpec): Promise<CaseResult> {
  if (spec.db !== 'postgres') throw new Error('large-table: PostgreSQL only');
  const table = `bench_${spec.tag}`;
  const finished = Number(spec.opts['finished'] ?? 0);
  const available = spec.n;
  const pool = pgPool(10);
  // Setup, VACUUM and counting go straight through pg on their own pool, outside the engine.
  const side = pgPool(2);
  try {
    for (const stmt of jobsDdl('postgres', table)) await side.query(stmt);
    const prefillStarted = performance.now();
    if (finished > 0) {
      await side.query(
        `INSERT INTO ${table} (queue, kind, args, state, attempt, run_at, attempted_at, finalized_at, created_at, locked_by) ` +
          `SELECT 'default', 'noop', jsonb_build_object('i', g), 'completed', 1, ts, ts, ts, ts, 'bench-history' ` +
          `FROM generate_series(1, $1::int) g, LATERAL (SELECT now() - (g % 3600) * interval '1 second' AS ts) x`,
        [finished],
      );
    }
    await insertAvailable(side, table, available);
    await side.query(`VACUUM ANALYZE ${table}`);
    const prefillSeconds = (performance.now() - prefillStarted) / 1000;

    let handled = 0;
    const noop = defineJob('noop', {
      handler: (_args: { i: number }) => {
        handled++;
      },
    });
    const jobs = createJobs({ adapter: pgAdapter(pool), jobs: [noop], table });
    const dialect = jobs.backend;
    const db = jobs.dispatcherDb();
    const deadline = performance.now() + spec.capSeconds * 1000;

    // Phase 1: the claim statement alone.
    const claimMs: number[] = [];
    let claimedTotal = 0;
    // Warm-up claim of nothing from another queue: opens the connection and plans the statement
    // shape once, so the first timed call is not a connection set-up.
    await dialect.claim(db, { queues: ['bench-warmup'], limit: CLAIM_BATCH, workerId: 'bench-claim', leaseMs: 30_000, now: null });
    for (;;) {
      const t = performance.now();
      const got = await dialect.claim(db, { queues: ['default'], limit: CLAIM_BATCH, workerId: 'bench-claim', leaseMs: 30_000, now: null });
      claimMs.push(performance.now() - t);
      if (got.length === 0) break;
      claimedTotal += got.length;
      const held = await dialect.complete(db, got.map((j) => ({ id: j.id, token: j.leaseToken })), null);
      if (held.size !== got.length) throw new Error(`large-table: completed ${held.size} of ${got.length} claimed jobs`);
      if (performance.now() > deadline) throw new Error(`large-table: claim loop still running after ${spec.capSeconds} s`);
    }
    // The last, empty claim is the "queue is empty" answer, not a claim of jobs: not counted.
    claimMs.pop();
    if (claimedTotal !== available) throw new Error(`large-table: claim loop claimed ${claimedTotal} of ${available}`);
    claimMs.sort((a, b) => a - b);

    // Phase 2: a fresh batch, the table vacuumed again, then a default worker drains it.
    await insertAvailable(side, table, available);
    await side.query(`VACUUM ANALYZE ${table}`);
    const drainClaimMs: number[] = [];
    const claim = dialect.claim.bind(dialect);
    dialect.claim = async (d, p) => {
      const t = performance.now();
      try {
        return await claim(d, p);
      } finally {
        drainClaimMs.push(performance.now() - t);
      }
    };
    let completedEvents = 0;
    const meter = new Meter();
    meter.start();
    const worker = jobs.createWorker({ logger: { warn: console.warn, error: console.error } });
    worker.on('job:completed', () => {
      completedEvents++;
    });
    await worker.start();
    const drainDeadline = performance.now() + spec.capSeconds * 1000;
    // Finished rows are also `completed`: count what is left instead, through the claim index.
    const done = await waitDrained(available, () => completedEvents, async () => available - (await countLeft(side, table)), drainDeadline);
    const m = meter.stop();
    await worker.stop();
    if (handled !== completedEvents) throw new Error(`large-table: ${handled} handler runs, ${completedEvents} completions`);
    drainClaimMs.sort((a, b) => a - b);
    return rateResult(available, done, m, {
      finished,
      prefillSeconds,
      claims: claimMs.length,
      claimP50: percentile(claimMs, 50),
      claimP99: percentile(claimMs, 99),
      drainClaims: drainClaimMs.length,
      drainClaimP50: percentile(drainClaimMs, 50),
      drainClaimP99: percentile(drainClaimMs, 99),
    });
  } finally {
    await side.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await pool.end();
    await side.end();
  }
}

/** `n` due jobs in the default queue, shaped as Concordia's enqueue writes them. */
async function insertAvailable(side: pg.Pool, table: string, n: number): Promise<void> {
  await side.query(
    `INSERT INTO ${table} (queue, kind, args, run_at, created_at) ` +
      `SELECT 'default', 'noop', jsonb_build_object('i', g), now(), now() FROM generate_series(1, $1::int) g`,
    [n],
  );
}

async function countLeft(side: pg.Pool, table: string): Promise<number> {
  const { rows } = await side.query<{ c: string }>(`SELECT COUNT(*) AS c FROM ${table} WHERE state IN ('available', 'running')`);
  return Number(rows[0]?.c ?? 0);
}
