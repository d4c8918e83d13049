/**
 * graphile-worker 0.18 in its own PostgreSQL schema. Drain: jobs added with workerUtils.addJobs(),
 * then `run()` with a task list. Completed jobs are deleted, so "all done" is an empty jobs
 * table. Defaults: concurrency 1, a pool of 10, LISTEN/NOTIFY plus a 2 s poll, each job fetched
 * by the handler slot that runs it and completed on its own. Tuned: the batching settings of its
 * performance guide: more concurrent jobs with a pool to match (`maxPoolSize`), a local queue that
 * claims `localQueue.size` jobs per fetch and hands them out to the slots, and completions and
 * failures batched (`completeJobBatchDelay` / `failJobBatchDelay` 0: whatever finished in the same
 * tick goes out as one statement).
 * Latency: jobs added with the SQL add_job() inside a transaction; the worker wakes on NOTIFY.
 */
import { Logger, makeWorkerUtils, run as runWorker, runMigrations, type RunnerOptions } from 'graphile-worker';
import pg from 'pg';
import { fromReturn, jitter, latencyResult, Meter, PG_URL, PgWork, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';

// Errors only: the default logger prints a line per job.
const logger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const schema = `bench_${spec.tag}_gw`;
  const side = new pg.Pool({ connectionString: PG_URL, max: 2 });
  let runner: Awaited<ReturnType<typeof runWorker>> | undefined;
  try {
    await runMigrations({ connectionString: PG_URL, schema, logger });
    const options: RunnerOptions = { connectionString: PG_URL, schema, logger, noHandleSignals: true };
    const o = spec.opts;
    if (o['concurrency'] !== undefined) options.concurrency = Number(o['concurrency']);
    if (o['maxPoolSize'] !== undefined) options.maxPoolSize = Number(o['maxPoolSize']);
    if (o['pollInterval'] !== undefined) options.pollInterval = Number(o['pollInterval']);
    // The batching settings live only in the preset's worker section.
    const worker: GraphileConfig.WorkerOptions = {};
    if (o['localQueueSize'] !== undefined) worker.localQueue = { size: Number(o['localQueueSize']) };
    if (o['completeJobBatchDelay'] !== undefined) worker.completeJobBatchDelay = Number(o['completeJobBatchDelay']);
    if (o['failJobBatchDelay'] !== undefined) worker.failJobBatchDelay = Number(o['failJobBatchDelay']);
    if (Object.keys(worker).length > 0) options.preset = { worker };

    if (spec.scenario === 'latency') {
      const addedAt = new Map<number, number>();
      const returnedAt = new Map<number, number>();
      const startedAt = new Map<number, number>();
      const delays: number[] = [];
      options.taskList = {
        probe: async (payload) => {
          const now = performance.now();
          const i = (payload as { i: number }).i;
          startedAt.set(i, now);
          const t = addedAt.get(i);
          if (t !== undefined) delays.push(now - t);
        },
      };
      runner = await runWorker(options);
      const meter = new Meter();
      const commits: number[] = [];
      meter.start();
      for (let i = 0; i < spec.n; i++) {
        const client = await side.connect();
        try {
          await client.query('BEGIN');
          await client.query(`SELECT ${schema}.add_job('probe', $1::json)`, [JSON.stringify({ i })]);
          // Clock starts as COMMIT is issued: the NOTIFY can wake the worker before the reply lands here.
          const issued = performance.now();
          addedAt.set(i, issued);
          await client.query('COMMIT');
          const returned = performance.now();
          returnedAt.set(i, returned);
          commits.push(returned - issued);
        } finally {
          client.release();
        }
        await jitter(5, 25);
      }
      const deadline = performance.now() + spec.capSeconds * 1000;
      while (delays.length < spec.n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return latencyResult(delays, meter.stop(), spec.n, commits, fromReturn(startedAt, returnedAt));
    }

    const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger });
    try {
      for (let i = 0; i < spec.n; i += 5000) {
        const chunk = Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => ({ identifier: 'noop', payload: { i: i + k } }));
        await utils.addJobs(chunk);
      }
    } finally {
      await utils.release();
    }
    let handled = 0;
    options.taskList = {
      noop: async () => {
        handled++;
      },
    };
    const work = new PgWork();
    await work.start();
    const meter = new Meter();
    meter.start();
    runner = await runWorker(options);
    const deadline = performance.now() + spec.capSeconds * 1000;
    const confirmed = async (): Promise<number> => {
      const { rows } = await side.query<{ c: string }>(`SELECT COUNT(*) AS c FROM ${schema}._private_jobs`);
      return spec.n - Number(rows[0]?.c ?? 0);
    };
    const done = await waitDrained(spec.n, () => handled, confirmed, deadline);
    const m = meter.stop();
    return rateResult(spec.n, done, m, await work.stop(done));
  } finally {
    await runner?.stop().catch(() => {});
    await side.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await side.end();
  }
}
