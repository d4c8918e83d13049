/**
 * pg-boss 12 in its own PostgreSQL schema. Drain: jobs inserted with `boss.insert()`, then one
 * `work()` call. A pg-boss worker loops fetch → handler → completion; `localConcurrency` runs that
 * many such loops, `batchSize` is how many jobs one fetch claims (the handler gets them as an
 * array and pg-boss completes them together), and after a fetch the worker waits out
 * `pollingIntervalSeconds` (default 2 s) unless a burst trigger tells it to fetch again at once.
 * So the defaults (one loop, batchSize 1, 2 s) complete about 0.5 jobs/s on a full queue, by
 * design; the tuned case sets the documented throughput knobs: `localConcurrency`, `batchSize`
 * and `burstWhenBatchFull` (keep fetching while fetches come back full).
 *
 * Latency: an idle worker with LISTEN/NOTIFY on (`useListenNotify` on the instance, `notify` on
 * the queue), jobs sent with `boss.send()`; the clock starts as send() is called.
 */
import { PgBoss } from 'pg-boss';
import type { ConstructorOptions, WorkOptions } from 'pg-boss';
import pg from 'pg';
import { jitter, latencyResult, Meter, PG_URL, PgWork, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

/** The work() options a case sets; everything it leaves out stays at pg-boss's default. */
function workOptions(opts: CaseSpec['opts']): WorkOptions {
  const o: WorkOptions = {};
  if (opts['localConcurrency'] !== undefined) o.localConcurrency = Number(opts['localConcurrency']);
  if (opts['batchSize'] !== undefined) o.batchSize = Number(opts['batchSize']);
  if (opts['pollingIntervalSeconds'] !== undefined) o.pollingIntervalSeconds = Number(opts['pollingIntervalSeconds']);
  if (opts['burstWhenBatchFull'] !== undefined) o.burstWhenBatchFull = Boolean(opts['burstWhenBatchFull']);
  return o;
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const schema = `bench_${spec.tag}_boss`;
  const side = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const latency = spec.scenario === 'latency';
  const options: ConstructorOptions = { connectionString: PG_URL, schema };
  // A bigger pool only when the case asks (the default is 10 connections).
  if (spec.opts['poolMax'] !== undefined) options.max = Number(spec.opts['poolMax']);
  if (latency) options.useListenNotify = true;
  const boss = new PgBoss(options);
  boss.on('error', (error: unknown) => console.error('pg-boss error', error));
  try {
    await boss.start();
    const queue = 'bench';
    await boss.createQueue(queue, latency ? { notify: true } : {});
    const workOpts = workOptions(spec.opts);

    if (latency) {
      const sentAt = new Map<number, number>();
      const delays: number[] = [];
      await boss.work<{ i: number }>(queue, workOpts, async (jobs) => {
        for (const j of jobs) {
          const t = sentAt.get(j.data.i);
          if (t !== undefined) delays.push(performance.now() - t);
        }
      });
      const meter = new Meter();
      meter.start();
      for (let i = 0; i < spec.n; i++) {
        // send() commits on its own; the clock starts just before it.
        sentAt.set(i, performance.now());
        await boss.send(queue, { i });
        await jitter(5, 25);
      }
      const deadline = performance.now() + spec.capSeconds * 1000;
      while (delays.length < spec.n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return latencyResult(delays, meter.stop(), spec.n);
    }

    for (let i = 0; i < spec.n; i += 5000) {
      await boss.insert(
        queue,
        Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => ({ data: { i: i + k } })),
      );
    }
    let handled = 0;
    const work = new PgWork();
    await work.start();
    const meter = new Meter();
    meter.start();
    await boss.work<{ i: number }>(queue, workOpts, async (jobs) => {
      handled += jobs.length;
    });
    const deadline = performance.now() + spec.capSeconds * 1000;
    // `job` is the partitioned parent of every queue's table, so this counts the queue wherever it lives.
    const confirmed = async (): Promise<number> => {
      const { rows } = await side.query<{ c: string }>(`SELECT COUNT(*) AS c FROM ${schema}.job WHERE name = $1 AND state = 'completed'`, [queue]);
      return Number(rows[0]?.c ?? 0);
    };
    const done = await waitDrained(spec.n, () => handled, confirmed, deadline);
    const m = meter.stop();
    return rateResult(spec.n, done, m, { handled, ...(await work.stop(done)) });
  } finally {
    await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
    await side.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await side.end();
  }
}
