/**
 * Benchmark orchestrator: `npm run bench` (full) or `npm run bench -- --quick` (CI smoke).
 *
 * Flags:
 *   --quick          small N, 1 repetition; fails only on errors, never on speed
 *   --reps=N         repetitions per case (default 3, quick 1)
 *   --only=a,b       run only cases whose id contains one of these substrings
 *   --n=N            jobs per drain and multi-process case (default 20,000; quick 1,000)
 *   --cpu-prof       run children with --cpu-prof (profiles in bench/results/prof/)
 *   --no-markdown    do not rewrite bench/RESULTS.md (for partial runs)
 *
 * Each case × repetition runs in a fresh child process against a freshly created table or
 * schema, named by a unique tag and dropped afterwards (also by this process, in case a child
 * died). Repetitions are interleaved round-robin so slow drift on a shared machine spreads over
 * all cases instead of penalising whichever ran last.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { buildCases, type CaseTemplate } from './cases.ts';
import { median, MYSQL_URL, PG_URL, REDIS_URL, sqliteDir, type CaseResult, type CaseSpec } from './lib/common.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
};
const quick = flag('quick') !== undefined;
const reps = Number(flag('reps') ?? (quick ? 1 : 3));
const only = flag('only')?.split(',').filter(Boolean);
const nFlag = flag('n');
const cpuProf = flag('cpu-prof') !== undefined;
const writeMarkdown = flag('no-markdown') === undefined;

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));

interface Run {
  rep: number;
  ok: boolean;
  result?: CaseResult;
  error?: string;
}

function runChild(spec: CaseSpec): Promise<Run & { rep: number }> {
  return new Promise((resolve) => {
    const execArgv = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}prof`, `--cpu-prof-name=${spec.id.replace(/\//g, '_')}.${spec.tag}.cpuprofile`] : [];
    const child = fork(childPath, [JSON.stringify(spec)], { execPath: process.execPath, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const finish = (run: Run): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(run);
    };
    // Setup and teardown get a minute on top of the case's own cap.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ rep: 0, ok: false, error: `timed out after ${spec.capSeconds + 60} s` });
    }, (spec.capSeconds + 60) * 1000);
    child.on('message', (msg: { ok: boolean; result?: CaseResult; error?: string }) => {
      finish(msg.ok ? { rep: 0, ok: true, result: msg.result! } : { rep: 0, ok: false, error: msg.error ?? 'unknown error' });
    });
    child.on('exit', (code) => finish({ rep: 0, ok: false, error: `child exited with code ${code} before reporting` }));
  });
}

/** Drops whatever a tag may have left behind (a killed child cannot clean up itself). */
async function sweep(spec: CaseSpec, conns: Conns): Promise<void> {
  const base = `bench_${spec.tag}`;
  if (spec.db === 'postgres') {
    await conns.pg.query(`DROP TABLE IF EXISTS ${base}`);
    await conns.pg.query(`DROP SCHEMA IF EXISTS ${base}_boss CASCADE`);
    await conns.pg.query(`DROP SCHEMA IF EXISTS ${base}_gw CASCADE`);
  } else if (spec.db === 'mysql') {
    await conns.my.query(`DROP TABLE IF EXISTS ${base}`);
  } else if (spec.db === 'sqlite') {
    rmSync(sqliteDir(spec.tag), { recursive: true, force: true });
  } else {
    const keys = await conns.redis.keys(`${base}:*`);
    if (keys.length > 0) await conns.redis.del(...keys);
  }
}

interface Conns {
  pg: pg.Pool;
  my: mysql.Pool;
  redis: Redis;
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The commit measured, and whether the engine's files differed from it (read-only git). */
function engineRevision(): { commit: string; dirty: boolean } {
  try {
    const git = (...a: string[]): string => execFileSync('git', a, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'lib', 'adapters', 'schema').length > 0 };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/**
 * `SELECT 1` round trips (median of 50, ms): back to back, and after 10 ms idle. The second is
 * what a woken worker's first statement pays, since an idle server process and CPU must wake up;
 * on a virtual machine it can be several times the first, and it bounds the latency cases.
 */
async function pgRoundTrips(pool: pg.Pool): Promise<{ busy: number; afterIdle: number }> {
  const client = await pool.connect();
  try {
    const sample = async (gapMs: number): Promise<number> => {
      const xs: number[] = [];
      for (let i = 0; i < 50; i++) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        const t = performance.now();
        await client.query('SELECT 1');
        xs.push(performance.now() - t);
      }
      return Math.round(median(xs) * 1000) / 1000;
    };
    await sample(0);
    return { busy: await sample(0), afterIdle: await sample(10) };
  } finally {
    client.release();
  }
}

async function environment(conns: Conns): Promise<Record<string, unknown>> {
  const pgRow = async (sql: string): Promise<string> => String(Object.values((await conns.pg.query(sql)).rows[0] ?? {})[0]);
  const pgSettings: Record<string, string> = {};
  // autovacuum decides whether dead rows from earlier drains linger (the large-table and 100k cases).
  for (const s of ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_connections', 'work_mem', 'autovacuum']) pgSettings[s] = await pgRow(`SHOW ${s}`);
  const roundTrips = await pgRoundTrips(conns.pg);
  const [myVersion] = await conns.my.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  const [myVars] = await conns.my.query<mysql.RowDataPacket[]>(
    "SHOW VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit','innodb_buffer_pool_size','log_bin','sync_binlog','transaction_isolation','tx_isolation')",
  );
  const sqlite = new Database(':memory:');
  const sqliteVersion = String((sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v);
  sqlite.close();
  const info = await conns.redis.info('server');
  const persistence = await conns.redis.info('persistence');
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    engine: engineRevision(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    node: process.version,
    postgres: { version: await pgRow('SHOW server_version'), settings: pgSettings, roundTripMs: roundTrips },
    mariadb: { version: String(myVersion[0]?.['v']), settings: Object.fromEntries(myVars.map((r) => [String(r['Variable_name']), String(r['Value'])])) },
    sqlite: { version: sqliteVersion, settings: { journal_mode: 'wal', synchronous: 'FULL (default)' } },
    redis: {
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      aof_enabled: /aof_enabled:(\S+)/.exec(persistence)?.[1] ?? 'unknown',
    },
    libraries: Object.fromEntries(['pg', 'mysql2', 'better-sqlite3', 'knex', 'pg-boss', 'graphile-worker', 'bullmq', 'ioredis'].map((n) => [n, pkgVersion(n)])),
  };
}

interface Summary {
  id: string;
  label: string;
  scenario: string;
  db: string;
  note?: string;
  n: number;
  unit: string;
  runs: Run[];
  ok: number;
  median: number;
  min: number;
  max: number;
  cpuMsPer1k: number;
  /** Runs that hit the cap (their rate is completed/elapsed). */
  capped: number;
  extra: Record<string, number>;
}

function summarise(t: CaseTemplate, runs: Run[]): Summary {
  const good = runs.filter((r) => r.ok && r.result).map((r) => r.result!);
  const values = good.map((r) => r.value);
  const extraKeys = new Set(good.flatMap((r) => Object.keys(r.extra)));
  const extra: Record<string, number> = {};
  for (const k of extraKeys) extra[k] = median(good.map((r) => r.extra[k] ?? Number.NaN));
  const s: Summary = {
    id: t.id,
    label: t.label,
    scenario: t.scenario,
    db: t.db,
    n: t.n,
    unit: good[0]?.unit ?? (t.scenario === 'latency' ? 'ms' : 'jobs/s'),
    runs,
    ok: good.length,
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    cpuMsPer1k: median(good.map((r) => r.cpuMsPer1k)),
    capped: good.filter((r) => r.partial).length,
    extra,
  };
  if (t.note !== undefined) s.note = t.note;
  return s;
}

/** Rates below 10/s keep a decimal, so a capped 0.3 jobs/s does not print as 0. */
const rate = (x: number): string => fmt(x, Math.abs(x) < 10 ? 1 : 0);

const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';

/**
 * Client CPU, database-server CPU and their sum per 1,000 jobs, as three table cells. The server
 * figure needs the database on this machine (it is read from /proc); SQLite and BullMQ's
 * client-side work count as client. `clientCell` overrides the client cell (e.g. "n/a").
 */
const cpuCells = (s: { cpuMsPer1k: number; extra: Record<string, number> }, clientCell?: string): string => {
  const db = s.extra['dbCpuMsPer1k'];
  const total = db === undefined || !Number.isFinite(db) ? Number.NaN : s.cpuMsPer1k + db;
  if (clientCell === 'n/a') return 'n/a | n/a | n/a';
  return `${clientCell ?? fmt(s.cpuMsPer1k)} | ${db === undefined ? '–' : fmt(db)} | ${fmt(total)}`;
};

/** The raw loop each database's drains are compared with: its widest configuration. */
const RAW_REFERENCE: Record<string, string> = {
  postgres: 'drain/raw-pg/4x100',
  mysql: 'drain/raw-mysql/4x100',
  sqlite: 'drain/raw-sqlite/b100',
};

/**
 * "% of raw": a drain's median over the median of the raw loop on the same database with the
 * same N ('' for the reference itself, for Redis, or when that loop was not run or failed).
 */
function pctOfRaw(s: Summary, all: readonly Summary[]): string {
  const prefix = RAW_REFERENCE[s.db];
  if (prefix === undefined) return '';
  const ref = all.find((r) => r.scenario === 'drain' && r.db === s.db && r.n === s.n && (r.id === prefix || r.id.startsWith(`${prefix}-`)));
  if (!ref || ref === s || !(ref.median > 0) || !Number.isFinite(s.median)) return '';
  return `${fmt((s.median / ref.median) * 100)} %`;
}

/** "1.05×" for a ratio of two medians, '–' when either is missing. */
const times = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt(a / b, 2)}×` : '–');

function markdown(summaries: Summary[], env: Record<string, unknown>, meta: { quick: boolean; reps: number; seconds: number }): string {
  const e = env as {
    engine: { commit: string; dirty: boolean };
    machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; loadAvgAtStart: number[] };
    node: string;
    postgres: { version: string; settings: Record<string, string>; roundTripMs?: { busy: number; afterIdle: number } };
    mariadb: { version: string; settings: Record<string, string> };
    sqlite: { version: string };
    redis: { version: string; aof_enabled: string };
    libraries: Record<string, string>;
  };
  const lines: string[] = [];
  lines.push(`Run ${String(env['date'])} on commit ${e.engine.commit}${e.engine.dirty ? ' plus uncommitted changes to lib/, adapters/ or schema/' : ''}${meta.quick ? ' (**--quick**: small N, not a measurement)' : ''}; ${meta.reps} repetition(s) per case, each in a fresh process; ${fmt(meta.seconds)} s total.`);
  lines.push('');
  lines.push(
    `Machine: ${e.machine.cpus} × ${e.machine.cpuModel}, ${e.machine.memoryGiB} GiB, ${e.machine.os}, load average at start ${e.machine.loadAvgAtStart.join(' / ')}. ` +
      `Node ${e.node}. PostgreSQL ${e.postgres.version} (${Object.entries(e.postgres.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` +
      `${e.postgres.roundTripMs ? `; SELECT 1 round trip ${fmt(e.postgres.roundTripMs.busy, 2)} ms back to back, ${fmt(e.postgres.roundTripMs.afterIdle, 2)} ms after 10 ms idle` : ''}). ` +
      `MariaDB ${e.mariadb.version} (${Object.entries(e.mariadb.settings).map(([k, v]) => `${k}=${v}`).join(', ')}). ` +
      `SQLite ${e.sqlite.version} (WAL, synchronous=FULL). Redis ${e.redis.version} (aof_enabled=${e.redis.aof_enabled}). ` +
      `Libraries: ${Object.entries(e.libraries).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  );
  lines.push('');
  const range = (s: Summary, d?: number): string =>
    s.ok > 1 ? (d === undefined ? `${rate(s.min)}–${rate(s.max)}` : `${fmt(s.min, d)}–${fmt(s.max, d)}`) : '–';
  const status = (s: Summary): string => {
    const bits: string[] = [];
    if (s.ok < s.runs.length) bits.push(`**${s.runs.length - s.ok} failed**`);
    if (s.capped > 0) {
      const fewest = Math.min(...s.runs.filter((r) => r.result?.partial).map((r) => r.result!.extra['completed'] ?? 0));
      bits.push(`${s.capped} of ${s.ok} run(s) hit the ${s.scenario === 'latency' ? 'wait' : 'time'} cap (fewest done: ${fmt(fewest)} of ${fmt(s.n)})`);
    }
    if (s.note) bits.push(s.note);
    return bits.join('; ');
  };
  const drains = summaries.filter((s) => s.scenario === 'drain');
  if (drains.length) {
    lines.push('### Drain (no-op jobs pre-inserted; jobs/s until the database confirms all completed)');
    lines.push('');
    lines.push(
      '"% of raw" divides each median by the raw loop\'s on the same database with the same N (4 lanes × batch 100; SQLite: one connection × batch 100).',
    );
    lines.push('');
    lines.push('| Case | N | jobs/s (median) | min–max | % of raw (same database) | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of drains) {
      // CPU per 1k jobs over a handful of jobs is process start-up noise, not a per-job cost.
      const cpu = cpuCells(s, (s.extra['completed'] ?? 0) >= 100 ? undefined : 'n/a');
      lines.push(`| ${s.label} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${pctOfRaw(s, summaries)} | ${cpu} | ${status(s)} |`);
    }
    lines.push('');
  }
  const enq = summaries.filter((s) => s.scenario === 'enqueue');
  if (enq.length) {
    lines.push('### Enqueue inside transactions (PostgreSQL; committed jobs/s)');
    lines.push('');
    lines.push('"WAL B/job" is the write-ahead log PostgreSQL wrote per job during the case (its commits must flush it).');
    lines.push('');
    lines.push('| Case | Jobs | jobs/s (median) | min–max | WAL B/job | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of enq) lines.push(`| ${s.label} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${fmt(s.extra['walBytesPerJob'] ?? Number.NaN)} | ${cpuCells(s)} | ${status(s)} |`);
    lines.push('');
  }
  const lat = summaries.filter((s) => s.scenario === 'latency');
  if (lat.length) {
    lines.push('### Enqueue→start latency, idle worker (ms from the enqueuing transaction issuing COMMIT to handler start)');
    lines.push('');
    lines.push('"COMMIT p50" is the enqueuing transaction\'s own COMMIT round trip (issued → reply): about the floor under every figure in its row (the job becomes visible, and its NOTIFY leaves, only as that commit completes).');
    lines.push('');
    lines.push('| Case | Jobs | p50 | p95 | p99 | p50 min–max | COMMIT p50 | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of lat) {
      lines.push(
        `| ${s.label} | ${fmt(s.n)} | ${fmt(s.extra['p50'] ?? Number.NaN, 1)} | ${fmt(s.extra['p95'] ?? Number.NaN, 1)} | ${fmt(s.extra['p99'] ?? Number.NaN, 1)} | ${range(s, 1)} | ${fmt(s.extra['commitP50'] ?? Number.NaN, 2)} | ${cpuCells(s)} | ${status(s)} |`,
      );
    }
    lines.push('');
  }
  const multi = summaries.filter((s) => s.scenario === 'multi-process');
  if (multi.length) {
    lines.push('### Multi-process drain (several dispatcher processes, one queue; jobs/s until the database confirms all completed)');
    lines.push('');
    lines.push(
      'Every job checked to have run exactly once. "All started" is when the last process had passed its schema check and begun claiming, counted from the common start signal (inside the measurement). CPU is the sum over the worker processes.',
    );
    lines.push('');
    lines.push('| Case | N | jobs/s (median) | min–max | % of raw (same database) | all started after (ms) | client CPU ms / 1k jobs, all processes | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of multi) {
      const cpu = cpuCells(s, (s.extra['completed'] ?? 0) >= 100 ? undefined : 'n/a');
      lines.push(`| ${s.label} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${pctOfRaw(s, summaries)} | ${fmt(s.extra['allStartedMs'] ?? Number.NaN)} | ${cpu} | ${status(s)} |`);
    }
    lines.push('');
  }
  const large = summaries.filter((s) => s.scenario === 'large-table');
  if (large.length) {
    lines.push('### Claim latency with a large history (PostgreSQL; finished rows kept next to the queue)');
    lines.push('');
    lines.push(
      '"Claim" is the real claim statement through the dialect API, 10 jobs per call, one call at a time (each batch completed before the next), timed per call. "In-drain" times the same call inside a default worker\'s drain, so it includes the busy event loop. Drain: a default worker (concurrency 10) on a fresh batch of the same size.',
    );
    lines.push('');
    lines.push('| Table | Finished rows | Jobs | drain jobs/s (median) | min–max | claim p50 ms | claim p99 ms | in-drain claim p50 / p99 ms | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of large) {
      const x = (k: string): number => s.extra[k] ?? Number.NaN;
      lines.push(
        `| ${s.label} | ${fmt(x('finished'))} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${fmt(x('claimP50'), 2)} | ${fmt(x('claimP99'), 2)} | ${fmt(x('drainClaimP50'), 2)} / ${fmt(x('drainClaimP99'), 2)} | ${cpuCells(s)} | ${status(s)} |`,
      );
    }
    const withHistory = large.find((s) => (s.extra['finished'] ?? 0) > 0);
    const without = large.find((s) => s.extra['finished'] === 0);
    if (withHistory && without) {
      const e = (s: Summary, k: string): number => s.extra[k] ?? Number.NaN;
      lines.push('');
      lines.push(
        `With ${fmt(e(withHistory, 'finished'))} finished rows ÷ without: drain jobs/s ${times(withHistory.median, without.median)}, ` +
          `claim p50 ${times(e(withHistory, 'claimP50'), e(without, 'claimP50'))}, claim p99 ${times(e(withHistory, 'claimP99'), e(without, 'claimP99'))}, ` +
          `in-drain claim p50 ${times(e(withHistory, 'drainClaimP50'), e(without, 'drainClaimP50'))} (above 1× means slower claims, below 1× a slower drain).`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  let templates = buildCases(quick, nFlag ? Number(nFlag) : undefined);
  if (only) templates = templates.filter((t) => only.some((o) => t.id.includes(o)));
  if (templates.length === 0) throw new Error('no case matches --only');
  mkdirSync(resultsDir, { recursive: true });
  if (cpuProf) mkdirSync(`${resultsDir}prof`, { recursive: true });

  const conns: Conns = {
    pg: new pg.Pool({ connectionString: PG_URL, max: 2 }),
    my: mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 }),
    redis: new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }),
  };
  const env = await environment(conns);
  console.log(`concordia bench: ${templates.length} cases × ${reps} rep(s)${quick ? ' (quick)' : ''}; node ${process.version}, ${os.cpus().length} cpus`);

  const runs = new Map<string, Run[]>(templates.map((t) => [t.id, []]));
  for (let rep = 1; rep <= reps; rep++) {
    for (const [i, t] of templates.entries()) {
      const { label: _label, note: _note, ...rest } = t;
      const spec: CaseSpec = { ...rest, tag: `${process.pid}_${i}_${rep}` };
      const run = await runChild(spec);
      run.rep = rep;
      await sweep(spec, conns).catch((error: unknown) => console.error(`sweep ${spec.tag}: ${String(error)}`));
      runs.get(t.id)!.push(run);
      const r = run.result;
      const shown = !run.ok
        ? `FAILED: ${run.error?.split('\n')[0]}`
        : t.scenario === 'large-table'
          ? `${rate(r!.value)} jobs/s drain${r!.partial ? ' (capped)' : ''}, claim p50 ${fmt(r!.extra['claimP50'] ?? Number.NaN, 2)} ms, p99 ${fmt(r!.extra['claimP99'] ?? Number.NaN, 2)} ms (prefill ${fmt(r!.extra['prefillSeconds'] ?? Number.NaN, 1)} s)`
          : r!.unit === 'ms'
          ? `p50 ${fmt(r!.extra['p50'] ?? Number.NaN, 1)} ms, p99 ${fmt(r!.extra['p99'] ?? Number.NaN, 1)} ms`
          : `${rate(r!.value)} jobs/s in ${fmt(r!.seconds, 2)} s${r!.partial ? ' (capped)' : ''}, ${fmt(r!.cpuMsPer1k)} CPU ms/1k${r!.extra['dbCpuMsPer1k'] !== undefined ? ` + ${fmt(r!.extra['dbCpuMsPer1k'])} in the database` : ''}`;
      console.log(`[${rep}/${reps}] ${t.id.padEnd(44)} ${shown}`);
      if (!run.ok && run.error) console.error(run.error);
    }
  }

  const summaries = templates.map((t) => summarise(t, runs.get(t.id)!));
  const seconds = (performance.now() - started) / 1000;
  const table = markdown(summaries, env, { quick, reps, seconds });
  console.log(`\n${table}`);
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify({ quick, reps, seconds, environment: env, cases: summaries }, null, 2)}\n`);
  console.log(`wrote ${resultsDir}latest.json`);
  // Quick and filtered runs are smoke tests, not measurements: they never overwrite the committed table.
  if (writeMarkdown && !quick && !only && !nFlag) {
    const md = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    writeFileSync(md, `# Benchmark results\n\nGenerated by \`npm run bench\`; see [README.md](README.md) for what each case measures.\n\n${table}`);
    console.log(`wrote ${md}`);
  }

  await conns.pg.end();
  await conns.my.end();
  conns.redis.disconnect();
  const failed = summaries.filter((s) => s.ok < s.runs.length);
  if (failed.length > 0) {
    console.error(`\n${failed.length} case(s) had failures: ${failed.map((s) => s.id).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
