/**
 * Shared pieces of the benchmark: where the databases are, the jobs-table DDL, the case
 * description passed from the orchestrator to a child, and small measuring helpers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_URL = process.env['CONCORDIA_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['CONCORDIA_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * A node-postgres pool on the bench database with an 'error' listener, as the README asks of
 * every pool given to pgAdapter: an idle connection the server drops is logged, not a crash.
 */
export function pgPool(max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max });
  pool.on('error', (error) => console.error(`bench pg pool: ${error.message}`));
  return pool;
}

export type Scenario = 'drain' | 'enqueue' | 'latency' | 'multi-process' | 'large-table' | 'dashboard-reads';

/** One case as the orchestrator hands it to a child process (serialised as JSON). */
export interface CaseSpec {
  /** Stable id, e.g. `drain/concordia-pg/c100`. */
  id: string;
  scenario: Scenario;
  /** Which module under bench/cases runs it. */
  impl: 'concordia' | 'raw-pg' | 'raw-mysql' | 'raw-sqlite' | 'multi-process' | 'large-table' | 'dashboard-reads' | 'pg-boss' | 'graphile-worker' | 'bullmq' | 'concordia-redis' | 'raw-redis' | 'concordia-dynamodb' | 'raw-dynamodb' | 'concordia-firestore' | 'raw-firestore';
  /** Database or broker: postgres, mysql, sqlite, redis, dynamodb (DynamoDB Local), firestore (its emulator). */
  db: 'postgres' | 'mysql' | 'sqlite' | 'redis' | 'dynamodb' | 'firestore';
  /** Jobs (drain, latency) or jobs enqueued (enqueue). */
  n: number;
  /** Stop waiting after this many seconds and report the partial rate (slow defaults). */
  capSeconds: number;
  /** Implementation options (adapter, concurrency, batch size, …). */
  opts: Record<string, string | number | boolean>;
  /** Names every object this run creates (table, schema, Redis prefix, SQLite dir). */
  tag: string;
}

/** What a child reports back. */
export interface CaseResult {
  /** Jobs (or transactions) measured. */
  n: number;
  /** Wall time of the measured phase. */
  seconds: number;
  /** Primary number: jobs/s for drain and enqueue; p50 ms for latency. */
  value: number;
  unit: 'jobs/s' | 'ms';
  /** Client-process CPU (user + system) per 1,000 jobs, in ms. */
  cpuMsPer1k: number;
  /** The cap was hit: `value` is completed/elapsed, not a full drain. */
  partial: boolean;
  extra: Record<string, number>;
  /** Text findings keyed like `extra` (the dashboard case's one-line query plans). */
  plans?: Record<string, string>;
}

/**
 * The canonical DDL of a database, every numbered migration in schema/<db>/ in order, with the
 * table and its index names replaced. Applying all of them keeps the suite in step with the
 * engine as columns are added.
 */
export function jobsDdl(db: 'postgres' | 'mysql' | 'sqlite', table: string): string[] {
  const dir = new URL(`../../schema/${db}/`, import.meta.url);
  const files = readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  return files.flatMap((f) =>
    readFileSync(new URL(f, dir), 'utf8')
      .replace(/concordia_jobs/g, table)
      .split(/;\s*\n/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter((s) => s.length > 0),
  );
}

export function sqliteDir(tag: string): string {
  return join(tmpdir(), `concordia-bench-${tag}`);
}

/** The server processes of each networked service, by the name Linux gives them (`comm`). */
const SERVER_COMMANDS: Record<string, readonly string[]> = {
  postgres: ['postgres'],
  mysql: ['mariadbd', 'mysqld'],
  redis: ['redis-server'],
  dynamodb: ['java'],
  firestore: ['java'],
};

/** Linux reports process CPU in clock ticks of 1/100 s on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

let measuredServer: readonly string[] = [];

/**
 * Which database a case uses, so every {@link Meter} also counts that server's CPU. The child
 * calls it once per case; SQLite runs inside the client, so its CPU is already the client's.
 */
export function measureServerOf(db: string): void {
  measuredServer = SERVER_COMMANDS[db] ?? [];
}

/**
 * CPU ticks (user + system) of every local process whose name is in `names`, by pid. Reads
 * /proc, so it sees the database only where it runs on this machine (as in CI); elsewhere the
 * map is empty and the figure is reported as unknown.
 */
function serverTicks(names: readonly string[]): Map<number, number> {
  const ticks = new Map<number, number>();
  if (names.length === 0) return ticks;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return ticks;
  }
  for (const pid of pids) {
    try {
      if (!names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) continue;
      // Fields after the parenthesised name: state is the 3rd field, utime the 14th, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(pid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks;
}

/**
 * Measures wall time, this process's CPU and, for a database on this machine, its server
 * processes' CPU over one phase. Server processes that start during the phase (new pool
 * connections) count in full; ones that end during it are not counted.
 */
export class Meter {
  #t0 = 0;
  #cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  #server0 = new Map<number, number>();
  start(): void {
    this.#server0 = serverTicks(measuredServer);
    this.#cpu0 = process.cpuUsage();
    this.#t0 = performance.now();
  }
  /** Seconds and CPU ms since start(); `dbCpuMs` is undefined when no server process was seen. */
  stop(): { seconds: number; cpuMs: number; dbCpuMs?: number } {
    const seconds = (performance.now() - this.#t0) / 1000;
    const cpu = process.cpuUsage(this.#cpu0);
    const server = serverTicks(measuredServer);
    const out: { seconds: number; cpuMs: number; dbCpuMs?: number } = { seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
    if (server.size > 0) {
      let ticks = 0;
      for (const [pid, t] of server) ticks += t - (this.#server0.get(pid) ?? 0);
      out.dbCpuMs = (ticks * 1000) / TICKS_PER_SECOND;
    }
    return out;
  }
}

/** Statements sent through node-postgres in this process (every pg-based library shares the one copy). */
let pgStatementsSent = 0;
let pgCounting = false;

/**
 * Counts every statement this process sends through node-postgres, by wrapping
 * `Client.prototype.query` once: the pg adapter, Knex, Prisma's driver adapter, pg-boss and
 * graphile-worker all query through it. A count per job does not depend on the machine's load,
 * unlike a rate, so it compares implementations on a busy machine.
 */
function countPgStatements(): void {
  if (pgCounting) return;
  pgCounting = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function counted(this: unknown, ...args: unknown[]): unknown {
    pgStatementsSent++;
    return original.apply(this, args);
  };
}

/** Statements this process has sent through node-postgres since counting began (the first call begins it). */
export function pgStatementCount(): number {
  countPgStatements();
  return pgStatementsSent;
}

/**
 * The database work of one measured phase on PostgreSQL, in units that do not depend on load:
 * write-ahead log written (`pg_current_wal_insert_lsn`, so it counts every session on the server;
 * the bench assumes nothing else writes meanwhile) and statements sent by this process. `stop`
 * returns them per job, as `extra` fields of a result.
 */
export class PgWork {
  #client: pg.Client | undefined;
  #wal0 = 0;
  #sent0 = 0;
  async start(): Promise<void> {
    countPgStatements();
    this.#client = new pg.Client({ connectionString: PG_URL });
    await this.#client.connect();
    this.#wal0 = await this.#lsn();
    this.#sent0 = pgStatementsSent;
  }
  async stop(jobs: number): Promise<Record<string, number>> {
    const sent = pgStatementsSent - this.#sent0;
    const wal = (await this.#lsn()) - this.#wal0;
    await this.#client?.end();
    this.#client = undefined;
    return jobs > 0 ? { walBytesPerJob: wal / jobs, statementsPer1k: (sent / jobs) * 1000 } : {};
  }
  async #lsn(): Promise<number> {
    const { rows } = await this.#client!.query<{ b: string }>("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS b");
    return Number(rows[0]?.b);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `handled()` reaches `n` (cheap, in-process), then polls `confirmed()` (a database
 * count) until it does too, so the end time is when the database says every job is done.
 * Returns the confirmed count, which is below `n` when the cap ran out first.
 */
export async function waitDrained(
  n: number,
  handled: () => number,
  confirmed: () => Promise<number>,
  deadline: number,
): Promise<number> {
  while (handled() < n && performance.now() < deadline) await sleep(5);
  for (;;) {
    const done = await confirmed();
    if (done >= n || performance.now() >= deadline) return done;
    await sleep(10);
  }
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Turns a drain or enqueue measurement into a result. */
export function rateResult(n: number, done: number, m: { seconds: number; cpuMs: number; dbCpuMs?: number }, extra: Record<string, number> = {}): CaseResult {
  if (m.dbCpuMs !== undefined && done > 0) extra = { ...extra, dbCpuMsPer1k: (m.dbCpuMs / done) * 1000 };
  return {
    n,
    seconds: m.seconds,
    value: done / m.seconds,
    unit: 'jobs/s',
    cpuMsPer1k: done > 0 ? (m.cpuMs / done) * 1000 : Number.NaN,
    partial: done < n,
    extra: { completed: done, ...extra },
  };
}

/**
 * Latency result from per-job enqueue→start delays in ms, and optionally the enqueuing
 * transactions' COMMIT round trips (issued → reply), which bound the delay from below.
 */
/**
 * Latency by the peers' convention: from the moment the enqueuing call (its COMMIT) returned to
 * the application until the handler started; 0 when the job had already started by then.
 */
export function fromReturn(startedAt: ReadonlyMap<number, number>, returnedAt: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (const [i, started] of startedAt) {
    const returned = returnedAt.get(i);
    if (returned !== undefined) out.push(Math.max(0, started - returned));
  }
  return out;
}

export function latencyResult(delays: number[], m: { seconds: number; cpuMs: number; dbCpuMs?: number }, n: number, commits: number[] = [], afterReturn: number[] = []): CaseResult {
  const s = [...delays].sort((a, b) => a - b);
  const c = [...commits].sort((a, b) => a - b);
  const r = [...afterReturn].sort((a, b) => a - b);
  return {
    n,
    seconds: m.seconds,
    value: percentile(s, 50),
    unit: 'ms',
    cpuMsPer1k: s.length > 0 ? (m.cpuMs / s.length) * 1000 : Number.NaN,
    partial: s.length < n,
    extra: {
      p50: percentile(s, 50),
      p95: percentile(s, 95),
      p99: percentile(s, 99),
      max: s[s.length - 1] ?? Number.NaN,
      completed: s.length,
      commitP50: percentile(c, 50),
      ...(r.length > 0 ? { returnP50: percentile(r, 50), returnP99: percentile(r, 99) } : {}),
      ...(m.dbCpuMs !== undefined && s.length > 0 ? { dbCpuMsPer1k: (m.dbCpuMs / s.length) * 1000 } : {}),
    },
  };
}

/** Random pause between latency probes, so enqueues do not phase-lock with the poll timer. */
export function jitter(minMs: number, maxMs: number): Promise<void> {
  return sleep(minMs + Math.random() * (maxMs - minMs));
}

export const silent = { debug() {}, info() {}, warn() {}, error() {} };
