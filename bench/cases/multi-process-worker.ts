/**
 * One dispatcher process of the multi-process drain (multi-process.ts forks several of these).
 * It runs a stock Concordia worker on its own connection pool, the way a horizontally scaled
 * application would, and talks to the coordinator over IPC:
 *
 *   worker → coordinator: ready, started, progress { completed }, stopped { cpuMs, handled, completed }, failed { error }
 *   coordinator → worker: go, stop
 *
 * `ready` is sent once modules are loaded and the pool and worker are built, so process start-up
 * stays out of the measurement; on `go` the worker starts (schema check and first claim count,
 * as in the single-process drain). CPU is this process's own, from `go` to `stop`.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { createJobs, defineJob, type Adapter, type WorkOptions } from '../../lib/index.ts';
import { MYSQL_URL, pgPool, pgStatementCount } from '../lib/common.ts';

/** What the coordinator passes in argv[2]. */
export interface WorkerConfig {
  adapter: 'pg' | 'mysql2';
  table: string;
  /** Omitted: the engine's default concurrency. */
  concurrency?: number;
  /** Omitted: the engine's default claim-ahead buffer. */
  prefetch?: number;
}

/**
 * What this process asked of the database while measured: claim statements (and how many came
 * back empty, i.e. found nothing to take), jobs claimed, completion calls, and every statement
 * sent (PostgreSQL only; NaN on MariaDB). Counts do not depend on the machine's load.
 */
export interface ClaimWork {
  claims: number;
  emptyClaims: number;
  claimed: number;
  completions: number;
  statements: number;
  /** Times this process gave up the CPU: waiting for I/O (voluntary), or preempted (involuntary). */
  switches: number;
  /** The kernel's part of this process's CPU (ms): system calls, page faults, scheduling. */
  systemMs: number;
}

/** This process's context switches so far, voluntary and involuntary together (Linux; 0 elsewhere). */
function contextSwitches(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return [...status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  } catch {
    return 0;
  }
}

export type ToWorker = { type: 'go' } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'progress'; completed: number }
  | { type: 'stopped'; cpuMs: number; handled: number; completed: number; work: ClaimWork }
  | { type: 'failed'; error: string };

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const send = (msg: FromWorker): void => void process.send?.(msg);

// If the coordinator dies (or is killed at its time cap), the IPC channel closes: leave too,
// rather than linger as an orphan still claiming jobs.
process.on('disconnect', () => process.exit(1));

async function main(): Promise<void> {
  // The same pool size as the single-process Concordia cases.
  let adapter: Adapter<unknown>;
  let closePool: () => Promise<void>;
  if (config.adapter === 'pg') {
    const pool = pgPool(10);
    adapter = pgAdapter(pool) as Adapter<unknown>;
    closePool = () => pool.end();
  } else {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    adapter = mysql2Adapter(pool) as Adapter<unknown>;
    closePool = () => pool.end();
  }
  let handled = 0;
  let completed = 0;
  const noop = defineJob('noop', {
    handler: (_args: { i: number }) => {
      handled++;
    },
  });
  const jobs = createJobs({ adapter, jobs: [noop], table: config.table });
  const options: WorkOptions = { logger: { warn: console.warn, error: console.error } };
  if (config.concurrency !== undefined) options.concurrency = config.concurrency;
  if (config.prefetch !== undefined) options.prefetch = config.prefetch;
  const worker = jobs.createWorker(options);
  // Count the dispatcher's claims and completions at the backend, below the worker.
  const work: ClaimWork = { claims: 0, emptyClaims: 0, claimed: 0, completions: 0, statements: Number.NaN, switches: 0, systemMs: 0 };
  let counting = false;
  const backend = jobs.backend;
  const claim = backend.claim.bind(backend);
  backend.claim = async (db, p) => {
    const got = await claim(db, p);
    if (counting) {
      work.claims++;
      work.claimed += got.length;
      if (got.length === 0) work.emptyClaims++;
    }
    return got;
  };
  const complete = backend.complete.bind(backend);
  backend.complete = (db, fences, now) => {
    if (counting) work.completions++;
    return complete(db, fences, now);
  };
  let statements0 = 0;
  worker.on('job:completed', () => {
    completed++;
  });

  let cpu0: NodeJS.CpuUsage | null = null;
  let reported = 0;
  // Progress is a hint that tells the coordinator when to start counting in the database; a
  // message per job would cost more CPU than the jobs themselves.
  const progress = setInterval(() => {
    if (completed !== reported) {
      reported = completed;
      send({ type: 'progress', completed });
    }
  }, 20);

  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'go') {
      cpu0 = process.cpuUsage();
      counting = true;
      work.switches = -contextSwitches();
      if (config.adapter === 'pg') statements0 = pgStatementCount();
      worker.start().then(
        () => send({ type: 'started' }),
        (error: unknown) => fail(error),
      );
    } else if (msg.type === 'stop') {
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      counting = false;
      work.switches += contextSwitches();
      work.systemMs = cpu.system / 1000;
      if (config.adapter === 'pg') work.statements = pgStatementCount() - statements0;
      clearInterval(progress);
      worker
        .stop()
        .then(closePool)
        .then(
          () => {
            // Stop finishes in-flight handlers and records them: these counts are final.
            process.send?.({ type: 'stopped', cpuMs: (cpu.user + cpu.system) / 1000, handled, completed, work } satisfies FromWorker, () => process.exit(0));
          },
          (error: unknown) => fail(error),
        );
    }
  });
  send({ type: 'ready' });
}

function fail(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.send?.({ type: 'failed', error: text } satisfies FromWorker, () => process.exit(1));
}

main().catch(fail);
