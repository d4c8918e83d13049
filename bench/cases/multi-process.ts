/**
 * Multi-process drain: several dispatcher processes (multi-process-worker.ts, each a stock
 * Concordia worker on its own pool) drain one pre-inserted queue, the way an application scaled
 * out to several hosts or containers would. This shows whether claims from separate processes
 * contend (SKIP LOCKED should let them pass each other) and that no job runs twice.
 *
 * The coordinator (this process) creates the table, pre-inserts N jobs, forks the workers and
 * waits until each reports `ready` (modules loaded, pool and worker built). It then starts the
 * clock and tells all of them to go at once, so process start-up is outside the measurement and
 * worker start-up (schema check, first claim) inside it, as in the single-process drain. The
 * clock stops when the database confirms every job completed.
 *
 * Checked after all workers stopped (stopping finishes and records in-flight jobs): the handler
 * ran exactly as many times as the database has completed rows, no row was attempted twice, and
 * a drain that did not hit the cap left every row completed at attempt 1. Reported with the rate:
 * each process's share of the jobs that ran (smallest and largest), so a process that hoards the
 * queue (claims far ahead while the others idle) shows up even when the total looks good.
 *
 * CPU is the sum of the worker processes' own CPU over the measured phase (they report it over
 * IPC); the coordinator only counts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { createJobs, defineJob, type Adapter, type Executor } from '../../lib/index.ts';
import { jobsDdl, Meter, MYSQL_URL, PgWork, pgPool, rateResult, waitDrained, type CaseResult, type CaseSpec } from '../lib/common.ts';
import type { ClaimWork, FromWorker, ToWorker, WorkerConfig } from './multi-process-worker.ts';

const workerPath = fileURLToPath(new URL('./multi-process-worker.ts', import.meta.url));

/** How long a worker may take to load and build before the case fails (two cores, four processes). */
const READY_TIMEOUT_MS = 30_000;

interface Side {
  adapter: Adapter<unknown, Executor>;
  ex: Executor;
  close(): Promise<void>;
}

function side(adapterName: string): Side {
  if (adapterName === 'pg') {
    const pool = pgPool(2);
    const adapter = pgAdapter(pool) as Adapter<unknown, Executor>;
    return { adapter, ex: adapter.autocommit(), close: () => pool.end() };
  }
  if (adapterName === 'mysql2') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    const adapter = mysql2Adapter(pool) as Adapter<unknown, Executor>;
    return { adapter, ex: adapter.autocommit(), close: () => pool.end() };
  }
  throw new Error(`multi-process: unsupported adapter ${adapterName}`);
}

/** One forked worker and the messages it sent, with a way to wait for the next of a type. */
class WorkerHandle {
  readonly child: ChildProcess;
  completed = 0;
  #waiters: { type: FromWorker['type']; resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  #seen = new Map<FromWorker['type'], FromWorker>();
  #dead: Error | null = null;

  constructor(config: WorkerConfig, index: number) {
    // No inherited execArgv: a --cpu-prof of the case process must not make every worker write
    // a profile under the same name.
    this.child = fork(workerPath, [JSON.stringify(config)], { execPath: process.execPath, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') {
        this.completed = msg.completed;
        return;
      }
      if (msg.type === 'failed') {
        this.#die(new Error(`worker ${index} failed: ${msg.error}`));
        return;
      }
      this.#seen.set(msg.type, msg);
      for (const w of this.#waiters.filter((x) => x.type === msg.type)) w.resolve(msg);
      this.#waiters = this.#waiters.filter((x) => x.type !== msg.type);
    });
    this.child.on('exit', (code, signal) => {
      if (!this.#seen.has('stopped')) this.#die(new Error(`worker ${index} exited (${signal ?? `code ${code}`}) before it stopped`));
    });
  }

  #die(error: Error): void {
    if (this.#dead) return;
    this.#dead = error;
    for (const w of this.#waiters) w.reject(error);
    this.#waiters = [];
  }

  /** An error if the worker failed or died, so waiting loops can bail out. */
  get failure(): Error | null {
    return this.#dead;
  }

  next<T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    const seen = this.#seen.get(type);
    if (seen) return Promise.resolve(seen as Extract<FromWorker, { type: T }>);
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${type}' from a worker within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  send(msg: ToWorker): void {
    if (this.child.connected) this.child.send(msg);
  }
}

export async function run(spec: CaseSpec): Promise<CaseResult> {
  if (spec.db !== 'postgres' && spec.db !== 'mysql') throw new Error(`multi-process: unsupported database ${spec.db}`);
  const table = `bench_${spec.tag}`;
  const adapterName = String(spec.opts['adapter']);
  const processes = Number(spec.opts['processes'] ?? 4);
  const s = side(adapterName);
  const workers: WorkerHandle[] = [];
  try {
    for (const stmt of jobsDdl(spec.db, table)) await s.ex.execute(stmt, []);
    // Pre-insert through Concordia, as the single-process drain does, 5,000 per transaction.
    const noop = defineJob('noop', { handler: (_args: { i: number }) => {} });
    const jobs = createJobs({ adapter: s.adapter, jobs: [noop], table });
    for (let i = 0; i < spec.n; i += 5000) {
      await jobs.enqueueManyAutocommit(Array.from({ length: Math.min(5000, spec.n - i) }, (_, k) => noop({ i: i + k })));
    }

    const config: WorkerConfig = { adapter: adapterName === 'pg' ? 'pg' : 'mysql2', table };
    if (spec.opts['concurrency'] !== undefined) config.concurrency = Number(spec.opts['concurrency']);
    if (spec.opts['prefetch'] !== undefined) config.prefetch = Number(spec.opts['prefetch']);
    for (let i = 0; i < processes; i++) workers.push(new WorkerHandle(config, i));
    await Promise.all(workers.map((w) => w.next('ready', READY_TIMEOUT_MS)));

    const wal = spec.db === 'postgres' ? new PgWork() : undefined;
    await wal?.start();
    const meter = new Meter();
    meter.start();
    const t0 = performance.now();
    for (const w of workers) w.send({ type: 'go' });
    // How long until the last worker passed its schema check and began claiming (inside the
    // measurement, as worker start-up is in the single-process drain).
    let allStartedMs = Number.NaN;
    void Promise.all(workers.map((w) => w.next('started', spec.capSeconds * 1000))).then(
      () => (allStartedMs = performance.now() - t0),
      () => {},
    );
    const deadline = t0 + spec.capSeconds * 1000;
    const failure = (): Error | null => workers.find((w) => w.failure)?.failure ?? null;
    const handled = (): number => {
      const f = failure();
      if (f) throw f;
      return workers.reduce((sum, w) => sum + w.completed, 0);
    };
    const done = await waitDrained(spec.n, handled, () => countState(s.ex, table, 'completed'), deadline);
    const m = meter.stop();
    const walCost = (await wal?.stop(done)) ?? {};
    const f = failure();
    if (f) throw f;

    for (const w of workers) w.send({ type: 'stop' });
    // Stopping waits for in-flight handlers (none are slow here) and closes the pools.
    const stopped = await Promise.all(workers.map((w) => w.next('stopped', 30_000)));
    const cpuMs = stopped.reduce((sum, x) => sum + x.cpuMs, 0);
    const handlerRuns = stopped.reduce((sum, x) => sum + x.handled, 0);
    await verify(s.ex, table, spec.n, done, handlerRuns);
    // Fairness: each process's share of the jobs that ran, smallest and largest (ideal: 1/processes).
    const shares = stopped.map((x) => (handlerRuns > 0 ? (x.handled / handlerRuns) * 100 : Number.NaN));
    // The database work the processes asked for, summed (the statements of the stop are in it too).
    const sum = (k: keyof ClaimWork): number => stopped.reduce((total, x) => total + x.work[k], 0);
    const work = {
      claimsPer1k: (sum('claims') / done) * 1000,
      emptyClaims: sum('emptyClaims'),
      jobsPerClaim: sum('claimed') / Math.max(1, sum('claims') - sum('emptyClaims')),
      completionsPer1k: (sum('completions') / done) * 1000,
      switchesPerJob: sum('switches') / done,
      clientSystemMsPer1k: (sum('systemMs') / done) * 1000,
      ...(walCost.walBytesPerJob === undefined ? {} : { walBytesPerJob: walCost.walBytesPerJob, statementsPer1k: (sum('statements') / done) * 1000 }),
    };
    return rateResult(spec.n, done, { ...m, cpuMs }, { processes, allStartedMs, shareMinPct: Math.min(...shares), shareMaxPct: Math.max(...shares), ...work });
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await s.ex.execute(`DROP TABLE IF EXISTS ${table}`, []).catch(() => {});
    await s.close();
  }
}

async function countState(ex: Executor, table: string, state: string): Promise<number> {
  const rows = await ex.query(`SELECT COUNT(*) AS c FROM ${table} WHERE state = ?`, [state]);
  return Number(rows[0]?.['c'] ?? 0);
}

/** Every job ran at most once, and all of them ran when the drain finished inside the cap. */
async function verify(ex: Executor, table: string, n: number, doneAtClock: number, handlerRuns: number): Promise<void> {
  const rows = await ex.query(
    `SELECT COUNT(*) AS total, ` +
      `SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END) AS completed, ` +
      `SUM(CASE WHEN attempt > 1 THEN 1 ELSE 0 END) AS retried, ` +
      `SUM(CASE WHEN state = 'completed' AND attempt = 1 THEN 1 ELSE 0 END) AS once ` +
      `FROM ${table}`,
    [],
  );
  const r = rows[0] ?? {};
  const total = Number(r['total']);
  const completed = Number(r['completed'] ?? 0);
  const retried = Number(r['retried'] ?? 0);
  const once = Number(r['once'] ?? 0);
  const problems: string[] = [];
  if (total !== n) problems.push(`table has ${total} rows, expected ${n}`);
  if (retried > 0) problems.push(`${retried} row(s) attempted more than once`);
  if (once !== completed) problems.push(`${completed - once} completed row(s) not at attempt 1`);
  if (handlerRuns !== completed) problems.push(`handlers ran ${handlerRuns} times for ${completed} completed rows`);
  if (doneAtClock >= n && completed !== n) problems.push(`drain confirmed ${doneAtClock} but ${completed} rows are completed`);
  if (problems.length > 0) throw new Error(`multi-process: ${problems.join('; ')}`);
}
