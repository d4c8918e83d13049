/**
 * Benchmark orchestrator: `npm run bench` (full) or `npm run bench -- --quick` (CI smoke).
 *
 * Flags:
 *   --quick          small N, 1 repetition; fails only on errors, never on speed
 *   --reps=N         repetitions per case (default 3, quick 1)
 *   --only=a,b       run only cases whose id contains one of these substrings
 *   --n=N            jobs per drain and multi-process case (default 20,000; quick 1,000)
 *   --rows=N         finished jobs in the dashboard-reads tables (default 1,000,000; quick 20,000)
 *   --cpu-prof       run children with --cpu-prof (profiles in bench/results/prof/)
 *   --no-markdown    do not rewrite bench/RESULTS.md and the README's performance table
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
import { buildCases, CONCORDIA_CASE, PEER_CASE, RAW_REFERENCE_CASE } from './cases.ts';
import { median, MYSQL_URL, PG_URL, REDIS_URL, sqliteDir, type CaseResult, type CaseSpec } from './lib/common.ts';
import { fmt, markdown, rate, readmeBlock, replaceBetweenMarkers, summarise, type Run } from './lib/report.ts';

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
const rowsFlag = flag('rows');
const cpuProf = flag('cpu-prof') !== undefined;
const writeMarkdown = flag('no-markdown') === undefined;

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));

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
  } else if (spec.db === 'dynamodb') {
    // The case deletes its table itself; a killed child's table dies with the in-memory emulator.
  } else if (spec.db === 'firestore') {
    // The case wipes its own project (`bench-<tag>`); a killed child's documents stay in the
    // emulator's memory under a project nothing else uses.
  } else {
    // BullMQ's prefix and the application keys of the Concordia cases, then the Concordia jobs
    // table's keys, which carry a hash tag.
    for (const pattern of [`${base}:*`, `{${base}}:*`]) {
      const keys = await conns.redis.keys(pattern);
      if (keys.length > 0) await conns.redis.del(...keys);
    }
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
    libraries: Object.fromEntries(['pg', 'mysql2', 'better-sqlite3', 'knex', 'pg-boss', 'graphile-worker', 'bullmq', 'ioredis', 'redis'].map((n) => [n, pkgVersion(n)])),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  let templates = buildCases(quick, nFlag ? Number(nFlag) : undefined, rowsFlag ? Number(rowsFlag) : undefined);
  // The report finds the cases its targets and README block divide by through these ids: a
  // renamed case must fail here (quick CI runs the whole matrix), not leave "not measured".
  const unknown = [...Object.values(CONCORDIA_CASE), ...Object.values(PEER_CASE), ...Object.values(RAW_REFERENCE_CASE)].filter((id) => !templates.some((t) => t.id === id));
  if (unknown.length > 0) throw new Error(`cases.ts names case ids that the matrix lacks: ${unknown.join(', ')}`);
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
      if (t.maxReps !== undefined && rep > t.maxReps) continue;
      const { label: _label, note: _note, maxReps: _maxReps, ...rest } = t;
      const spec: CaseSpec = { ...rest, tag: `${process.pid}_${i}_${rep}` };
      const run = await runChild(spec);
      run.rep = rep;
      await sweep(spec, conns).catch((error: unknown) => console.error(`sweep ${spec.tag}: ${String(error)}`));
      runs.get(t.id)!.push(run);
      const r = run.result;
      const shown = !run.ok
        ? `FAILED: ${run.error?.split('\n')[0]}`
        : t.scenario === 'dashboard-reads'
          ? `jobs list p50 ${fmt(r!.extra['listP50'] ?? Number.NaN, 1)} ms, slowest endpoint p50 ${fmt(Math.max(...Object.entries(r!.extra).filter(([k]) => k.endsWith('P50')).map(([, v]) => v)), 1)} ms (fill ${fmt(r!.extra['fillSeconds'] ?? Number.NaN, 1)} s)`
          : t.scenario === 'large-table'
          ? `${rate(r!.value)} jobs/s drain${r!.partial ? ' (capped)' : ''}, claim p50 ${fmt(r!.extra['claimP50'] ?? Number.NaN, 2)} ms, p99 ${fmt(r!.extra['claimP99'] ?? Number.NaN, 2)} ms (prefill ${fmt(r!.extra['prefillSeconds'] ?? Number.NaN, 1)} s)`
          : r!.unit === 'ms'
          ? `p50 ${fmt(r!.extra['p50'] ?? Number.NaN, 1)} ms, p99 ${fmt(r!.extra['p99'] ?? Number.NaN, 1)} ms, COMMIT p50 ${fmt(r!.extra['commitP50'] ?? Number.NaN, 2)} ms` +
            (r!.extra['notifyP50'] !== undefined
              ? `; p50 / p99 of its parts: NOTIFY received ${['notify', 'react', 'claim', 'dispatch'].map((k, j) => `${j === 0 ? '' : `, ${k === 'react' ? 'claim issued' : k === 'claim' ? 'claim round trip' : 'handler started'} `}${fmt(r!.extra[`${k}P50`] ?? Number.NaN, 2)} / ${fmt(r!.extra[`${k}P99`] ?? Number.NaN, 2)}`).join('')} ms (${fmt(r!.extra['partsCounted'] ?? Number.NaN)} probes)`
              : '')
          : `${rate(r!.value)} jobs/s in ${fmt(r!.seconds, 2)} s${r!.partial ? ' (capped)' : ''}, ${fmt(r!.cpuMsPer1k)} CPU ms/1k${r!.extra['dbCpuMsPer1k'] !== undefined ? ` + ${fmt(r!.extra['dbCpuMsPer1k'])} in the database` : ''}${r!.extra['walBytesPerJob'] !== undefined && t.scenario !== 'enqueue' ? `, ${fmt(r!.extra['walBytesPerJob'])} B WAL and ${fmt((r!.extra['statementsPer1k'] ?? Number.NaN) / 1000, 3)} statements per job` : ''}${r!.extra['claimsPer1k'] !== undefined ? `; ${fmt(r!.extra['claimsPer1k'], 1)} claims/1k jobs (${fmt(r!.extra['emptyClaims'] ?? Number.NaN)} empty), ${fmt(r!.extra['jobsPerClaim'] ?? Number.NaN, 1)} jobs per claim, ${fmt(r!.extra['completionsPer1k'] ?? Number.NaN, 1)} completions/1k, ${fmt(r!.extra['switchesPerJob'] ?? Number.NaN, 2)} context switches per job, ${fmt(r!.extra['clientSystemMsPer1k'] ?? Number.NaN, 1)} of the client CPU ms/1k in the kernel, shares ${fmt(r!.extra['shareMinPct'] ?? Number.NaN)}–${fmt(r!.extra['shareMaxPct'] ?? Number.NaN)} %` : ''}`;
      // Firestore's billed units (document reads and writes per job), which carry over from its emulator.
      const docOps = run.ok && r!.extra['readsPerJob'] !== undefined ? `; ${fmt(r!.extra['readsPerJob'], 2)} document reads and ${fmt(r!.extra['writesPerJob'] ?? Number.NaN, 2)} writes per job` : '';
      console.log(`[${rep}/${reps}] ${t.id.padEnd(44)} ${shown}${docOps}`);
      if (!run.ok && run.error) console.error(run.error);
    }
  }

  const summaries = templates.map((t) => summarise(t, runs.get(t.id)!));
  const seconds = (performance.now() - started) / 1000;
  const table = markdown(summaries, env, { quick, reps, seconds });
  console.log(`\n${table}`);
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify({ quick, reps, seconds, environment: env, cases: summaries }, null, 2)}\n`);
  console.log(`wrote ${resultsDir}latest.json`);
  // Quick and filtered runs are smoke tests, not measurements: they never overwrite the committed
  // tables (RESULTS.md, and the block between the project README's bench:table markers).
  const failed = summaries.filter((s) => s.ok < s.runs.length);
  if (writeMarkdown && !quick && !only && !nFlag && !rowsFlag) {
    const md = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    writeFileSync(md, `# Benchmark results\n\nGenerated by \`npm run bench\`; see [README.md](README.md) for what each case measures.\n\n${table}`);
    console.log(`wrote ${md}`);
    // The README shows only a run in which every case succeeded.
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    const updated = failed.length > 0 ? null : replaceBetweenMarkers(readFileSync(readme, 'utf8'), readmeBlock(summaries, env, { reps }));
    if (updated === null) console.error(failed.length > 0 ? 'README.md left alone: some cases failed' : 'README.md left alone: its bench:table markers are missing');
    else {
      writeFileSync(readme, updated);
      console.log(`wrote the performance table of ${readme}`);
    }
  }

  await conns.pg.end();
  await conns.my.end();
  conns.redis.disconnect();
  if (failed.length > 0) {
    console.error(`\n${failed.length} case(s) had failures: ${failed.map((s) => s.id).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
