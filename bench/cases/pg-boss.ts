/**
 * pg-boss 10 in its own PostgreSQL schema. Drain: jobs inserted with boss.insert(), then
 * `work()` workers. pg-boss 10 runs one fetch per worker per polling interval (default 2 s,
 * batchSize 1), even when the queue is full, so its defaults are capped by design; the tuned
 * case uses the documented knobs: batchSize, the minimum 0.5 s interval, and several workers.
 * Latency: an idle worker, jobs sent with boss.send().
 */
import PgBoss from 'pg-boss';
import pg from 'pg';
import { jitter, latencyResult, Meter, PG_URL, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const schema = `bench_${spec.tag}_boss`;
  const side = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const boss = new PgBoss({ connectionString: PG_URL, schema });
  boss.on('error', (error: unknown) => console.error('pg-boss error', error));
  try {
    await boss.start();
    const queue = 'bench';
    await boss.createQueue(queue);
    const workers = Number(spec.opts['workers'] ?? 1);
    const workOpts: PgBoss.WorkOptions = {};
    if (spec.opts['batchSize'] !== undefined) workOpts.batchSize = Number(spec.opts['batchSize']);
    if (spec.opts['pollingIntervalSeconds'] !== undefined) workOpts.pollingIntervalSeconds = Number(spec.opts['pollingIntervalSeconds']);

    if (spec.scenario === 'latency') {
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
      const chunk = Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => ({ name: queue, data: { i: i + k } }));
      await boss.insert(chunk);
    }
    let handled = 0;
    const meter = new Meter();
    meter.start();
    for (let w = 0; w < workers; w++) {
      await boss.work<{ i: number }>(queue, workOpts, async (jobs) => {
        handled += jobs.length;
      });
    }
    const deadline = performance.now() + spec.capSeconds * 1000;
    const confirmed = async (): Promise<number> => {
      const { rows } = await side.query<{ c: string }>(`SELECT COUNT(*) AS c FROM ${schema}.job WHERE name = $1 AND state = 'completed'`, [queue]);
      return Number(rows[0]?.c ?? 0);
    };
    const done = await waitDrained(spec.n, () => handled, confirmed, deadline);
    return rateResult(spec.n, done, meter.stop(), { workers });
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => {});
    await side.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await side.end();
  }
}
