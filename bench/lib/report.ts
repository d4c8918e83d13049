/**
 * Turns the runs of a benchmark into what a reader sees: per-case summaries (median, min–max,
 * CPU), the markdown tables of RESULTS.md, the targets of issue #13 as measured ratios, and the
 * compact block the project README's Performance section shows between its markers.
 */
import type { CaseTemplate } from '../cases.ts';
import { CONCORDIA_CASE, PEER_CASE, RAW_REFERENCE_CASE } from '../cases.ts';
import { DASHBOARD_ENDPOINTS } from './dashboard-endpoints.ts';
import { accessPath } from './explain.ts';
import { median, type CaseResult } from './common.ts';

/** One child run of a case: its result, or why it failed. */
export interface Run {
  rep: number;
  ok: boolean;
  result?: CaseResult;
  error?: string;
}

export interface Summary {
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
  /** The first successful run's text findings (query plans), when the case reports any. */
  plans?: Record<string, string>;
}

export function summarise(t: CaseTemplate, runs: Run[]): Summary {
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
  const plans = good.find((r) => r.plans)?.plans;
  if (plans) s.plans = plans;
  return s;
}

/** Rates below 10/s keep a decimal, so a capped 0.3 jobs/s does not print as 0. */
export const rate = (x: number): string => fmt(x, Math.abs(x) < 10 ? 1 : 0);

export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';

/**
 * Client CPU, database-server CPU and their sum per 1,000 jobs, as three table cells. The server
 * figure needs the database on this machine (it is read from /proc); SQLite and BullMQ's
 * client-side work count as client. `clientCell` overrides the client cell (e.g. "n/a").
 */
const cpuCells = (s: Summary, clientCell?: string): string => {
  const db = s.extra['dbCpuMsPer1k'];
  if (clientCell === 'n/a') return 'n/a | n/a | n/a';
  return `${clientCell ?? fmt(s.cpuMsPer1k)} | ${db === undefined ? '–' : fmt(db)} | ${fmt(totalCpu(s))}`;
};

/**
 * Total CPU (client + database server) per 1,000 jobs. SQLite runs inside the client, so its
 * total is the client's; elsewhere NaN when the server was not measured (not on this machine).
 */
function totalCpu(s: Summary): number {
  if (s.db === 'sqlite') return s.cpuMsPer1k;
  const db = s.extra['dbCpuMsPer1k'];
  return db === undefined || !Number.isFinite(db) ? Number.NaN : s.cpuMsPer1k + db;
}

/**
 * "% of raw": a drain's median over the median of the raw loop on the same database with the
 * same N ('' for the reference itself, or when that loop was not run or failed). Redis's reference is
 * a hand-written Lua loop, not SQL.
 */
function pctOfRaw(s: Summary, all: readonly Summary[]): string {
  const prefix = (RAW_REFERENCE_CASE as Record<string, string>)[s.db];
  if (prefix === undefined) return '';
  const ref = all.find((r) => r.scenario === 'drain' && r.db === s.db && r.n === s.n && (r.id === prefix || r.id.startsWith(`${prefix}-`)));
  if (!ref || ref === s || !(ref.median > 0) || !Number.isFinite(s.median)) return '';
  return `${fmt((s.median / ref.median) * 100)} %`;
}

/** "1.05×" for a ratio of two medians, '–' when either is missing. */
const times = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt(a / b, 2)}×` : '–');

export function markdown(summaries: Summary[], env: Record<string, unknown>, meta: { quick: boolean; reps: number; seconds: number }): string {
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
      '"% of raw" divides each median by the raw loop\'s on the same database with the same N (10 connections × batch 100; SQLite: one connection × batch 100; Redis: a Lua loop, 10 lanes × batch 100 on one connection).',
    );
    lines.push('');
    lines.push(
      '"WAL B/job, statements/1k" (PostgreSQL): the write-ahead log the server wrote per job and the statements the client sent per 1,000 jobs over the measured phase; unlike the rate, neither depends on the machine\'s load.',
    );
    lines.push('');
    lines.push('| Case | N | jobs/s (median) | min–max | % of raw (same database) | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | WAL B/job, statements/1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of drains) {
      // CPU per 1k jobs over a handful of jobs is process start-up noise, not a per-job cost.
      const cpu = cpuCells(s, (s.extra['completed'] ?? 0) >= 100 ? undefined : 'n/a');
      const wal = s.extra['walBytesPerJob'];
      const work = wal === undefined || (s.extra['completed'] ?? 0) < 100 ? '–' : `${fmt(wal)}, ${fmt(s.extra['statementsPer1k'] ?? Number.NaN, 1)}`;
      lines.push(`| ${s.label} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${pctOfRaw(s, summaries)} | ${cpu} | ${work} | ${status(s)} |`);
    }
    lines.push('');
  }
  const enq = summaries.filter((s) => s.scenario === 'enqueue');
  if (enq.length) {
    lines.push('### Enqueue inside transactions (PostgreSQL transactions, Redis MULTIs; committed jobs/s)');
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
    lines.push('### Enqueue→start latency, idle worker (ms from the enqueuing transaction issuing COMMIT, on Redis EXEC, to handler start)');
    lines.push('');
    lines.push('"COMMIT p50" is the enqueuing transaction\'s own COMMIT round trip (issued → reply): about the floor under every figure in its row (the job becomes visible, and its NOTIFY leaves, only as that commit completes). "From return" measures from the moment that COMMIT returned to the application (the convention of the peers\' own benchmarks; 0 when the job had already started).');
    lines.push('');
    lines.push('"NOTIFY, claim p50" splits the Concordia PostgreSQL rows: from COMMIT issued until the worker\'s LISTEN connection received the NOTIFY, and the round trip of the claim that then took the job.');
    lines.push('');
    lines.push('| Case | Jobs | p50 | p95 | p99 | p50 min–max | COMMIT p50 | NOTIFY, claim p50 | from return p50 / p99 | client CPU ms / 1k jobs | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|');
    for (const s of lat) {
      lines.push(
        `| ${s.label} | ${fmt(s.n)} | ${fmt(s.extra['p50'] ?? Number.NaN, 1)} | ${fmt(s.extra['p95'] ?? Number.NaN, 1)} | ${fmt(s.extra['p99'] ?? Number.NaN, 1)} | ${range(s, 1)} | ${fmt(s.extra['commitP50'] ?? Number.NaN, 2)} | ${s.extra['notifyP50'] === undefined ? '–' : `${fmt(s.extra['notifyP50'], 2)}, ${fmt(s.extra['claimP50'] ?? Number.NaN, 2)}`} | ${s.extra['returnP50'] === undefined ? '–' : `${fmt(s.extra['returnP50'], 1)} / ${fmt(s.extra['returnP99'] ?? Number.NaN, 1)}`} | ${cpuCells(s)} | ${status(s)} |`,
      );
    }
    lines.push('');
  }
  const multi = summaries.filter((s) => s.scenario === 'multi-process');
  if (multi.length) {
    lines.push('### Multi-process drain (several dispatcher processes, one queue; jobs/s until the database confirms all completed)');
    lines.push('');
    lines.push(
      'Every job checked to have run exactly once. "Share" is each process\'s part of the jobs that ran (medians over the repetitions of the smallest and the largest share; ideal: an equal part each). "All started" is when the last process had passed its schema check and begun claiming, counted from the common start signal (inside the measurement). CPU is the sum over the worker processes.',
    );
    lines.push('');
    lines.push('| Case | N | jobs/s (median) | min–max | % of raw (same database) | share of the jobs per process, smallest–largest (ideal) | all started after (ms) | client CPU ms / 1k jobs, all processes | DB server CPU ms / 1k | total CPU ms / 1k | Notes |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of multi) {
      const cpu = cpuCells(s, (s.extra['completed'] ?? 0) >= 100 ? undefined : 'n/a');
      lines.push(
        `| ${s.label} | ${fmt(s.n)} | ${rate(s.median)} | ${range(s)} | ${pctOfRaw(s, summaries)} | ${shareCell(s)} | ${fmt(s.extra['allStartedMs'] ?? Number.NaN)} | ${cpu} | ${status(s)} |`,
      );
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
  lines.push(...dashboardSection(summaries.filter((s) => s.scenario === 'dashboard-reads')));
  const goals = targets(summaries);
  if (goals.length) {
    lines.push('### Targets of issues #13 and #15 (ratios within this run)');
    lines.push('');
    lines.push(...goals);
    lines.push('');
  }
  return lines.join('\n');
}

/** The dashboard's goal for its list and count endpoints (issue #14). */
const DASHBOARD_GOAL_MS = 50;

/**
 * The dashboard-reads tables: one row per endpoint, per database its median / p95 and what
 * reads the table (from EXPLAIN), a median over the goal in bold; then the plans in full and
 * where the overview's time went.
 */
export function dashboardSection(cases: readonly Summary[]): string[] {
  const ran = cases.filter((s) => s.ok > 0);
  if (ran.length === 0) return [];
  const dbName = (s: Summary): string => s.label.split(',')[0] ?? s.db;
  const lines: string[] = [];
  lines.push(`### Dashboard reads next to a long history (ms per request through the handler, median / p95)`);
  lines.push('');
  lines.push(
    `Each database: ${ran.map((s) => `${dbName(s)} ${fmt(s.extra['rows'] ?? Number.NaN)} rows (filled in ${fmt(s.extra['fillSeconds'] ?? Number.NaN, 1)} s)`).join(', ')}; ` +
      `finished jobs spread over 7 days plus 3,000 available and 200 running, then ANALYZE; one run of the case, ${fmt(ran[0]!.extra['samples'] ?? Number.NaN)} requests per endpoint after warm-up, one at a time. ` +
      `"Reads with" is what EXPLAIN shows reading the table (PostgreSQL: EXPLAIN ANALYZE; MariaDB: EXPLAIN; SQLite: EXPLAIN QUERY PLAN); "+ sort" means rows are sorted after they are read. Medians over ${DASHBOARD_GOAL_MS} ms are in bold.`,
  );
  lines.push('');
  lines.push(`| Endpoint | ${ran.map((s) => `${dbName(s)} median / p95 | reads with`).join(' | ')} |`);
  lines.push(`|---|${ran.map(() => '---:|---').join('|')}|`);
  for (const e of DASHBOARD_ENDPOINTS) {
    const cells = ran.map((s) => {
      const p50 = s.extra[`${e.key}P50`] ?? Number.NaN;
      const shown = `${fmt(p50, 1)} / ${fmt(s.extra[`${e.key}P95`] ?? Number.NaN, 1)}`;
      return `${p50 > DASHBOARD_GOAL_MS ? `**${shown}**` : shown} | ${accessPath(s.plans?.[e.key] ?? '')}`;
    });
    lines.push(`| ${e.label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const s of ran) {
    lines.push(`Plans on ${dbName(s)}:`);
    lines.push('');
    for (const e of DASHBOARD_ENDPOINTS) {
      const plan = s.plans?.[e.key];
      if (plan !== undefined) lines.push(`- ${e.label}: ${plan.replace(/\|/g, '/')}`);
    }
    const overview = s.plans?.['overviewStatements'];
    if (overview !== undefined) lines.push(`- overview, time per kind of statement, each run again alone: ${overview}`);
    lines.push('');
  }
  return lines;
}

/** The smallest and largest share of the jobs one process ran, and the ideal; undefined for one process. */
function shares(s: Summary): { lo: number; hi: number; ideal: number } | undefined {
  const processes = s.extra['processes'];
  const lo = s.extra['shareMinPct'];
  const hi = s.extra['shareMaxPct'];
  // One process has all of them: nothing to compare.
  if (processes === undefined || processes < 2 || lo === undefined || hi === undefined) return undefined;
  return { lo, hi, ideal: 100 / processes };
}

/** "23–27 % (25 %)" for a table cell. */
function shareCell(s: Summary): string {
  const x = shares(s);
  return x ? `${fmt(x.lo)}–${fmt(x.hi)} % (${fmt(x.ideal)} %)` : '–';
}

/** Words wrapped at `width` columns, as the README's prose is; a code span is never split. */
function wrap(text: string, width = 100): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.match(/(?:[^\s`]*`[^`]*`)+[^\s`]*|\S+/g) ?? []) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** A case that ran at least once in this run, or undefined. */
function measured(all: readonly Summary[], id: string): Summary | undefined {
  return all.find((s) => s.id === id && s.ok > 0 && Number.isFinite(s.median));
}

/** The PostgreSQL peer whose tuned drain was fastest in this run. */
function bestTunedPeer(all: readonly Summary[]): Summary | undefined {
  const peers = [PEER_CASE.pgBossTuned, PEER_CASE.graphileWorkerTuned].map((id) => measured(all, id)).filter((s) => s !== undefined);
  return peers.sort((a, b) => b.median - a.median)[0];
}

/** The BullMQ drain (any concurrency measured) that was fastest in this run. */
function bestBullmq(all: readonly Summary[]): Summary | undefined {
  return all.filter((s) => s.scenario === 'drain' && s.id.startsWith('drain/bullmq/') && s.ok > 0 && Number.isFinite(s.median)).sort((a, b) => b.median - a.median)[0];
}

const capped = (s: Summary): string => (s.capped > 0 ? ' (capped)' : '');
const pct = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt((a / b) * 100)} %` : '–');
const verdict = (met: boolean | undefined): string => (met === undefined ? '–' : met ? 'met' : '**not met**');

/** The fairness rule of the targets: no process below half or above one and a half times its equal share. */
const FAIR_LOW = 0.5;
const FAIR_HIGH = 1.5;

/**
 * The targets of issues #13 and #15, one table row each: the goal, the ratio this run measured (with the
 * figures it divides) and whether it is met. Goals are for design, not assertions: a row that
 * is not met never fails the run. A case missing from the run (a filtered run, or a failure)
 * leaves its row "not measured"; with none measured the result is empty.
 */
export function targets(all: readonly Summary[]): string[] {
  const rows: string[] = [];
  const row = (target: string, goal: string, value: string, met: boolean | undefined): void => {
    rows.push(`| ${target} | ${goal} | ${value} | ${verdict(met)} |`);
  };
  const missing = (target: string, goal: string): void => row(target, goal, 'not measured', undefined);
  // A ratio of two cases' medians against a floor: `asPct` prints it as a percentage.
  const ratio = (target: string, goal: string, aId: string, bId: string, floor: number, asPct: boolean): void => {
    const a = measured(all, aId);
    const b = measured(all, bId);
    if (!a || !b) return missing(target, goal);
    const r = a.median / b.median;
    row(target, goal, `${asPct ? pct(a.median, b.median) : times(a.median, b.median)} (${rate(a.median)}${capped(a)} vs ${rate(b.median)}${capped(b)} jobs/s)`, r >= floor);
  };

  const pgDefault = measured(all, CONCORDIA_CASE.pgDefault);
  const peer = bestTunedPeer(all);
  const peerName = (s: Summary): string => s.label.split(',')[0] ?? s.label;
  if (pgDefault && peer) {
    row(
      'PostgreSQL drain, defaults ÷ best-tuned peer',
      '≥ 1.30×',
      `${times(pgDefault.median, peer.median)} (${rate(pgDefault.median)} vs ${rate(peer.median)} jobs/s, ${peerName(peer)} tuned)`,
      pgDefault.median / peer.median >= 1.3,
    );
  } else missing('PostgreSQL drain, defaults ÷ best-tuned peer', '≥ 1.30×');
  ratio('PostgreSQL drain, defaults ÷ raw loop (10 connections × batch 100)', '≥ 60 %', CONCORDIA_CASE.pgDefault, RAW_REFERENCE_CASE.postgres, 0.6, true);
  ratio('PostgreSQL drain, tuned (concurrency 100) ÷ raw loop', '≥ 85 %', CONCORDIA_CASE.pgTuned, RAW_REFERENCE_CASE.postgres, 0.85, true);
  if (pgDefault && peer && Number.isFinite(totalCpu(pgDefault)) && Number.isFinite(totalCpu(peer))) {
    row(
      'CPU per 1,000 jobs (client + database server), PostgreSQL defaults vs best-tuned peer',
      "≤ the peer's",
      `${fmt(totalCpu(pgDefault))} vs ${fmt(totalCpu(peer))} ms (${peerName(peer)})`,
      totalCpu(pgDefault) <= totalCpu(peer),
    );
  } else missing('CPU per 1,000 jobs (client + database server), PostgreSQL defaults vs best-tuned peer', "≤ the peer's");
  ratio('4 processes ÷ 1 process, defaults (PostgreSQL)', '≥ 1.00×', CONCORDIA_CASE.fourProcesses, CONCORDIA_CASE.oneProcess, 1, false);
  const shareGoal = `every process between ${fmt(FAIR_LOW * 100)} % and ${fmt(FAIR_HIGH * 100)} % of an equal share`;
  const fair = [CONCORDIA_CASE.fourProcesses, CONCORDIA_CASE.fourProcessesTuned].map((id) => measured(all, id)).filter((s) => s !== undefined);
  if (fair.length > 0) {
    const within = fair.every((s) => {
      const ideal = 100 / (s.extra['processes'] ?? Number.NaN);
      return (s.extra['shareMinPct'] ?? Number.NaN) >= FAIR_LOW * ideal && (s.extra['shareMaxPct'] ?? Number.NaN) <= FAIR_HIGH * ideal;
    });
    const cells = fair.map((s) => `${s.id === CONCORDIA_CASE.fourProcesses ? 'defaults' : 'concurrency 100'}: ${shareCell(s)}`);
    row('Share of the jobs per process, 4 processes (none hoards the queue)', shareGoal, cells.join('; '), within);
  } else missing('Share of the jobs per process, 4 processes (none hoards the queue)', shareGoal);
  ratio('4 processes tuned (concurrency 100 each) ÷ raw loop', '≥ 80 %', CONCORDIA_CASE.fourProcessesTuned, RAW_REFERENCE_CASE.postgres, 0.8, true);
  ratio('Prisma on PostgreSQL ÷ pg adapter, defaults', '≥ 80 %', CONCORDIA_CASE.prismaDefault, CONCORDIA_CASE.pgDefault, 0.8, true);
  ratio('MariaDB (mysql2) defaults ÷ its raw loop (10 connections × batch 100)', '≥ 50 %', CONCORDIA_CASE.mysqlDefault, RAW_REFERENCE_CASE.mysql, 0.5, true);
  ratio('SQLite (better-sqlite3) defaults ÷ its raw loop (batch 100)', '≥ 50 %', CONCORDIA_CASE.sqliteDefault, RAW_REFERENCE_CASE.sqlite, 0.5, true);
  const latency = (target: string, id: string): void => {
    const lat = measured(all, id);
    if (!lat) return missing(target, '≤ 1 / 3 ms');
    const p50 = lat.extra['p50'] ?? Number.NaN;
    const p99 = lat.extra['p99'] ?? Number.NaN;
    row(target, '≤ 1 / 3 ms', `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`, p50 <= 1 && p99 <= 3);
  };
  latency('Enqueue→start latency, pg at defaults (LISTEN/NOTIFY; from COMMIT issued), p50 / p99', CONCORDIA_CASE.latencyListen);
  const fromReturnRow = (target: string, id: string): void => {
    const lat = measured(all, id);
    const p50 = lat?.extra['returnP50'];
    if (!lat || p50 === undefined) return missing(target, '≤ 1 / 3 ms');
    const p99 = lat.extra['returnP99'] ?? Number.NaN;
    row(target, '≤ 1 / 3 ms', `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`, p50 <= 1 && p99 <= 3);
  };
  fromReturnRow("Enqueue→start latency, pg at defaults, from the enqueue call's return (the peers' convention), p50 / p99", CONCORDIA_CASE.latencyListen);
  latency('Enqueue→start latency, Prisma on PostgreSQL at defaults, p50 / p99', CONCORDIA_CASE.prismaLatencyListen);
  latency('Enqueue→start latency, Redis (ioredis) at defaults (pub/sub; from EXEC issued), p50 / p99', CONCORDIA_CASE.redisLatency);
  // Issue #15: Concordia on Redis at its defaults against BullMQ at whichever concurrency ran fastest.
  const redisDefault = measured(all, CONCORDIA_CASE.redisDefault);
  const bull = bestBullmq(all);
  if (redisDefault && bull) {
    row(
      'Redis drain, Concordia defaults ÷ BullMQ at its fastest setting',
      '≥ 1.30×',
      `${times(redisDefault.median, bull.median)} (${rate(redisDefault.median)}${capped(redisDefault)} vs ${rate(bull.median)}${capped(bull)} jobs/s, ${setting(bull)})`,
      redisDefault.median / bull.median >= 1.3,
    );
  } else missing('Redis drain, Concordia defaults ÷ BullMQ at its fastest setting', '≥ 1.30×');
  const bulk = measured(all, CONCORDIA_CASE.enqueueBatch);
  if (bulk) row('Bulk enqueue, enqueueMany 1,000 jobs per transaction (pg)', '≥ 50,000 jobs/s', `${rate(bulk.median)} jobs/s`, bulk.median >= 50_000);
  else missing('Bulk enqueue, enqueueMany 1,000 jobs per transaction (pg)', '≥ 50,000 jobs/s');
  // A filtered run that measured none of them gets no table at all.
  if (rows.every((r) => r.includes('| not measured |'))) return [];
  return ['| Target | Goal | Measured | |', '|---|---|---|---|', ...rows];
}

/** What a label says about a case's setting: its closing parenthesis, else what follows its first comma. */
function setting(s: Summary): string {
  const paren = /\(([^()]*)\)$/.exec(s.label);
  if (paren) return paren[1]!;
  const comma = s.label.indexOf(', ');
  return comma >= 0 ? s.label.slice(comma + 2) : '';
}

/**
 * The block between the README's `bench:table` markers: how the run was made, the drain of every
 * queue at defaults and tuned, the multi-process line and the targets. Written by a full,
 * unfiltered run only, like RESULTS.md, which holds every table.
 */
export function readmeBlock(all: readonly Summary[], env: Record<string, unknown>, meta: { reps: number }): string {
  const e = env as { date: string; engine: { commit: string; dirty: boolean }; machine: { cpus: number }; libraries: Record<string, string> };
  const lib = (name: string): string => e.libraries[name] ?? '';
  const n = measured(all, CONCORDIA_CASE.pgDefault)?.n ?? measured(all, RAW_REFERENCE_CASE.postgres)?.n ?? Number.NaN;
  const lines: string[] = [];
  lines.push(
    wrap(
      `Measured by \`npm run bench\` on ${e.date.slice(0, 10)} (commit ${e.engine.commit}${e.engine.dirty ? ' with uncommitted engine changes' : ''}): ` +
        `${fmt(n)} no-op jobs per drain, ${meta.reps === 1 ? 'one run' : `the median of ${meta.reps} runs`} per case, each in a fresh process, on ${e.machine.cpus} vCPUs that the client and the databases share. ` +
        'CPU is the client\'s plus the database server\'s, per 1,000 jobs. "% of raw" compares with a hand-written `SKIP LOCKED` loop on the same database ' +
        '(10 connections × batch 100; SQLite: one connection × batch 100), the limit for this table without a queue around it; on Redis, a hand-written Lua loop (10 lanes × batch 100).',
    ),
  );
  lines.push('');
  lines.push(`| drain of ${fmt(n)} jobs | defaults, jobs/s | tuned, jobs/s | % of raw, defaults / tuned | CPU ms / 1k jobs, defaults / tuned |`);
  lines.push('|---|---:|---:|---:|---:|');
  const queue = (name: string, defaultId: string | undefined, tunedId: string): void => {
    const d = defaultId === undefined ? undefined : measured(all, defaultId);
    const t = measured(all, tunedId);
    if (!d && !t) return;
    const cell = (s: Summary | undefined): string => (s ? `${rate(s.median)} (${setting(s)}${s.capped > 0 ? '; hit the time cap' : ''})` : '');
    // The raw loops are the reference the column divides by.
    const rawPct = (s: Summary | undefined): string => (s ? (Object.values(RAW_REFERENCE_CASE) as string[]).includes(s.id) ? 'reference' : pctOfRaw(s, all) || '–' : '');
    // CPU per 1k over a handful of jobs (a capped, polling default) is start-up noise, not a per-job cost.
    const cpu = (s: Summary | undefined): string => (s ? ((s.extra['completed'] ?? 0) >= 100 ? fmt(totalCpu(s)) : 'n/a') : '');
    const pair = (a: string, b: string): string => (a && b ? `${a} / ${b}` : a || b);
    lines.push(`| ${name} | ${cell(d)} | ${cell(t)} | ${pair(rawPct(d), rawPct(t))} | ${pair(cpu(d), cpu(t))} |`);
  };
  queue('Concordia, pg adapter', CONCORDIA_CASE.pgDefault, CONCORDIA_CASE.pgTuned);
  queue('Concordia, Knex on PostgreSQL', CONCORDIA_CASE.knexDefault, CONCORDIA_CASE.knexTuned);
  queue('Concordia, Prisma on PostgreSQL (`prismaStatementNames()`)', CONCORDIA_CASE.prismaDefault, CONCORDIA_CASE.prismaTuned);
  queue('Concordia, mysql2 on MariaDB', CONCORDIA_CASE.mysqlDefault, CONCORDIA_CASE.mysqlTuned);
  queue('Concordia, better-sqlite3 (in-process)', CONCORDIA_CASE.sqliteDefault, CONCORDIA_CASE.sqliteTuned);
  queue(`pg-boss ${lib('pg-boss')}`, PEER_CASE.pgBossDefault, PEER_CASE.pgBossTuned);
  queue(`graphile-worker ${lib('graphile-worker')}`, PEER_CASE.graphileWorkerDefault, PEER_CASE.graphileWorkerTuned);
  queue('Concordia, ioredis on Redis', CONCORDIA_CASE.redisDefault, CONCORDIA_CASE.redisTuned);
  queue(`BullMQ ${lib('bullmq')} on Redis (not transactional)`, PEER_CASE.bullmqDefault, PEER_CASE.bullmqTuned);
  queue('raw SQL loop, PostgreSQL', undefined, RAW_REFERENCE_CASE.postgres);
  queue('raw SQL loop, MariaDB', undefined, RAW_REFERENCE_CASE.mysql);
  queue('raw SQL loop, SQLite', undefined, RAW_REFERENCE_CASE.sqlite);
  queue('raw Lua loop, Redis', undefined, RAW_REFERENCE_CASE.redis);
  lines.push('');
  const one = measured(all, CONCORDIA_CASE.oneProcess);
  const four = measured(all, CONCORDIA_CASE.fourProcesses);
  const fourTuned = measured(all, CONCORDIA_CASE.fourProcessesTuned);
  if (one && four && fourTuned) {
    const spread = (s: Summary): string => {
      const x = shares(s);
      return x ? `each process ran ${fmt(x.lo)}–${fmt(x.hi)} % of the jobs, ideal ${fmt(x.ideal)} %` : 'shares not measured';
    };
    lines.push(
      wrap(
        `Dispatcher processes on one PostgreSQL queue, each job checked to run exactly once: one process at defaults ${rate(one.median)} jobs/s; ` +
          `four at defaults ${rate(four.median)} (${spread(four)}); ` +
          `four at concurrency 100 each ${rate(fourTuned.median)} (${spread(fourTuned)}; ${pctOfRaw(fourTuned, all) || '–'} of the raw loop).`,
      ),
    );
    lines.push('');
  }
  lines.push('Targets of issues #13 and #15, as ratios within this run (goals to design for; the run never fails on them):');
  lines.push('');
  lines.push(...targets(all));
  return lines.join('\n');
}

/** The README markers the block goes between. */
export const README_MARKERS = { start: '<!-- bench:table:start -->', end: '<!-- bench:table:end -->' } as const;

/**
 * `text` with everything between the start and end markers replaced by `block`, or null when
 * the markers are missing or out of order (the caller then leaves the file alone).
 */
export function replaceBetweenMarkers(text: string, block: string): string | null {
  const start = text.indexOf(README_MARKERS.start);
  const end = text.indexOf(README_MARKERS.end);
  if (start < 0 || end < start) return null;
  return `${text.slice(0, start + README_MARKERS.start.length)}\n${block}\n${text.slice(end)}`;
}
