/**
 * BullMQ on Redis: the non-transactional reference (enqueue cannot join a SQL transaction).
 * Drain: jobs added with addBulk(), then a Worker (default concurrency 1; tuned 100).
 * Every key lives under a per-run prefix that is deleted afterwards.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Meter, REDIS_URL, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const prefix = `bench_${spec.tag}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bench', { connection, prefix });
  let worker: Worker | undefined;
  try {
    for (let i = 0; i < spec.n; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, spec.n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } }));
      await queue.addBulk(chunk);
    }
    let handled = 0;
    const meter = new Meter();
    meter.start();
    worker = new Worker(
      'bench',
      async () => {
        handled++;
      },
      { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: Number(spec.opts['concurrency'] ?? 1) },
    );
    worker.on('error', (error) => console.error('bullmq worker error', error));
    const deadline = performance.now() + spec.capSeconds * 1000;
    const done = await waitDrained(spec.n, () => handled, () => queue.getCompletedCount(), deadline);
    return rateResult(spec.n, done, meter.stop());
  } finally {
    await worker?.close(true).catch(() => {});
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    // obliterate leaves a few bookkeeping keys; the prefix is ours alone.
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length > 0) await connection.del(...keys);
    connection.disconnect();
  }
}
