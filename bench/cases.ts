/**
 * The case matrix. Every case runs in its own child process; `quick` shrinks N and the caps (and
 * skips the 100k drains) so CI can smoke-test the whole matrix in about a minute.
 */
import type { CaseSpec } from './lib/common.ts';

/** `maxReps`: run in at most this many of the repetitions (a case whose setup alone takes minutes). */
export type CaseTemplate = Omit<CaseSpec, 'tag'> & { label: string; note?: string; maxReps?: number };

/** The raw loop each database's drains are compared with ("% of raw" and the targets). */
export const RAW_REFERENCE_CASE = {
  postgres: 'drain/raw-pg/10x100',
  mysql: 'drain/raw-mysql/10x100',
  sqlite: 'drain/raw-sqlite/b100',
  /** Not SQL: a hand-written Lua loop, the Redis server's ceiling (no queue bookkeeping). */
  redis: 'drain/raw-redis/10x100',
} as const;

/** The Concordia cases the targets of issue #13 and the README block are computed from. */
export const CONCORDIA_CASE = {
  pgDefault: 'drain/concordia-pg/default',
  pgTuned: 'drain/concordia-pg/c100',
  knexDefault: 'drain/concordia-knex/default',
  knexTuned: 'drain/concordia-knex/c100',
  prismaDefault: 'drain/concordia-prisma/default',
  prismaTuned: 'drain/concordia-prisma/c100',
  mysqlDefault: 'drain/concordia-mysql2/default',
  mysqlTuned: 'drain/concordia-mysql2/c100',
  sqliteDefault: 'drain/concordia-better-sqlite3/default',
  sqliteTuned: 'drain/concordia-better-sqlite3/c100',
  oneProcess: 'multi-process/concordia-pg/1p-default',
  fourProcesses: 'multi-process/concordia-pg/default',
  fourProcessesTuned: 'multi-process/concordia-pg/c100',
  latencyListen: 'latency/concordia-pg/listen',
  prismaLatencyListen: 'latency/concordia-prisma/listen',
  enqueueBatch: 'enqueue/concordia-pg/1000-per-tx',
  redisDefault: 'drain/concordia-redis/default',
  redisTuned: 'drain/concordia-redis/c100-p1000',
  redisLatency: 'latency/concordia-redis/default',
} as const;

/** Each PostgreSQL peer's defaults and best documented tuning, and BullMQ's. */
export const PEER_CASE = {
  pgBossDefault: 'drain/pg-boss/default',
  pgBossTuned: 'drain/pg-boss/tuned',
  graphileWorkerDefault: 'drain/graphile-worker/default',
  graphileWorkerTuned: 'drain/graphile-worker/tuned',
  bullmqDefault: 'drain/bullmq/default',
  bullmqTuned: 'drain/bullmq/c100',
} as const;

const count = (x: number): string => x.toLocaleString('en-US');

export function buildCases(quick: boolean, drainN?: number, dashboardRows?: number): CaseTemplate[] {
  const N = drainN ?? (quick ? 1000 : 20_000);
  // A drain still running at the cap reports completed/elapsed (marked capped): slow defaults
  // would otherwise take minutes per repetition and push the suite past its 10-minute budget.
  const cap = quick ? 4 : 10;
  const out: CaseTemplate[] = [];
  const drain = (id: string, label: string, impl: CaseSpec['impl'], db: CaseSpec['db'], opts: CaseSpec['opts'], extra: Partial<CaseTemplate> = {}): void => {
    // Ids the report refers to (the constants above) are written out in full.
    out.push({ id: id.startsWith('drain/') ? id : `drain/${id}`, label, scenario: 'drain', impl, db, n: N, capSeconds: cap, opts, ...extra });
  };

  // 1. Drain: Concordia through each raw adapter and Knex, defaults then tuned.
  for (const [adapter, db, name] of [
    ['pg', 'postgres', 'pg'],
    ['knex', 'postgres', 'knex/pg'],
    ['prisma', 'postgres', 'Prisma/pg (named statements)'],
    ['mysql2', 'mysql', 'mysql2/MariaDB'],
    ['better-sqlite3', 'sqlite', 'better-sqlite3'],
  ] as const) {
    drain(`concordia-${adapter}/default`, `Concordia ${name}, defaults (concurrency 10)`, 'concordia', db, { adapter });
    drain(`concordia-${adapter}/c100`, `Concordia ${name}, concurrency 100`, 'concordia', db, { adapter, concurrency: 100 });
  }
  // The Prisma cases above use @prisma/adapter-pg with prismaStatementNames(), as the README
  // recommends; this one leaves it out, so every statement is planned again.
  drain('concordia-prisma-unnamed/default', 'Concordia Prisma/pg without prismaStatementNames, defaults', 'concordia', 'postgres', { adapter: 'prisma', statementNames: false });
  // 2. Each database's own limit for this table: hand-written claim/complete loops. 10
  // connections × batch 100 (one connection on SQLite's single writer) is the reference the "% of
  // raw" column and the targets divide by; the same loop with ten jobs in flight, as many as
  // Concordia's concurrency 10 runs at once, shows what a naive loop does with that many.
  drain('raw-pg/1x10', 'Raw SQL loop on pg (1 connection × batch 10)', 'raw-pg', 'postgres', { lanes: 1, batch: 10 });
  drain(RAW_REFERENCE_CASE.postgres, 'Raw SQL loop on pg (10 connections × batch 100)', 'raw-pg', 'postgres', { lanes: 10, batch: 100 });
  // The same loop completing by DELETE instead of an UPDATE to 'completed': what keeping finished
  // rows costs this schema (graphile-worker deletes a job as it succeeds; issue #13's gap).
  drain('raw-pg/10x100-delete', 'Raw SQL loop on pg (10 connections × batch 100), completing by DELETE', 'raw-pg', 'postgres', { lanes: 10, batch: 100, finish: 'delete' });
  drain('raw-mysql/1x10', 'Raw SQL loop on MariaDB (1 connection × batch 10)', 'raw-mysql', 'mysql', { lanes: 1, batch: 10 });
  drain(RAW_REFERENCE_CASE.mysql, 'Raw SQL loop on MariaDB (10 connections × batch 100)', 'raw-mysql', 'mysql', { lanes: 10, batch: 100 });
  drain('raw-sqlite/b10', 'Raw SQL loop on SQLite (1 connection × batch 10)', 'raw-sqlite', 'sqlite', { batch: 10 });
  drain(RAW_REFERENCE_CASE.sqlite, 'Raw SQL loop on SQLite (1 connection × batch 100)', 'raw-sqlite', 'sqlite', { batch: 100 });
  // A drain five times the default size, to show the rate holds as the table's dead rows pile up
  // (autovacuum may or may not run meanwhile). Full mode only: it alone takes longer than the
  // whole quick suite.
  if (!quick) {
    const big = { n: 100_000, capSeconds: 60 };
    drain('concordia-pg/c100-100k', 'Concordia pg, concurrency 100, 100,000 jobs', 'concordia', 'postgres', { adapter: 'pg', concurrency: 100 }, big);
    drain(`${RAW_REFERENCE_CASE.postgres}-100k`, 'Raw SQL loop on pg (10 connections × batch 100), 100,000 jobs', 'raw-pg', 'postgres', { lanes: 10, batch: 100 }, big);
  }
  // Peers on PostgreSQL, each at its defaults and at the best tuning its own documentation gives
  // for throughput, and BullMQ on Redis as the non-transactional reference.
  drain(PEER_CASE.pgBossDefault, 'pg-boss, defaults (1 worker loop, batchSize 1, poll 2 s)', 'pg-boss', 'postgres', {}, {
    capSeconds: quick ? 3 : 6,
    note: 'waits out its 2 s polling interval after every fetch, even with a full queue: capped run',
  });
  // The documented throughput knobs: localConcurrency fetch loops × batchSize jobs per fetch,
  // fetching again at once while fetches come back full (burstWhenBatchFull). The values are
  // ours, chosen by measurement on the 2-vCPU machine (20,000 jobs): 5 × 500 and 5 × 1,000 drained
  // fastest, level within noise (the smaller batch is kept); 10 × 100 ran at about 0.6× of it,
  // 10 × 250 at 0.85×, 10 × 1,000 and 2 × 1,000 at 0.85–0.9×.
  drain(PEER_CASE.pgBossTuned, 'pg-boss, localConcurrency 5 × batchSize 500, burstWhenBatchFull', 'pg-boss', 'postgres', {
    localConcurrency: 5,
    batchSize: 500,
    burstWhenBatchFull: true,
  });
  drain(PEER_CASE.graphileWorkerDefault, 'graphile-worker, defaults (concurrency 1)', 'graphile-worker', 'postgres', {});
  // The configuration of its performance guide: 24 concurrent jobs on a pool of 25, a local queue
  // of 500, completions and failures batched. (Concurrency 10 with a local queue of 100 ran at
  // about half of it here.)
  drain(PEER_CASE.graphileWorkerTuned, 'graphile-worker, concurrency 24, pool 25, localQueue 500, batched completion', 'graphile-worker', 'postgres', {
    concurrency: 24,
    maxPoolSize: 25,
    localQueueSize: 500,
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  });
  drain(PEER_CASE.bullmqDefault, 'BullMQ on Redis, defaults (concurrency 1)', 'bullmq', 'redis', {});
  drain(PEER_CASE.bullmqTuned, 'BullMQ on Redis, concurrency 100', 'bullmq', 'redis', { concurrency: 100 });
  // Concordia on Redis beside BullMQ on the same server (issue #15), and a hand-written Lua loop
  // as the server's ceiling. Quick mode keeps the defaults, concurrency 100 and the ceiling.
  drain(CONCORDIA_CASE.redisDefault, 'Concordia ioredis/Redis, defaults (concurrency 10)', 'concordia-redis', 'redis', {});
  // Tuned: more slots, and claims that carry up to 1,000 jobs (prefetch) instead of about 100.
  drain(CONCORDIA_CASE.redisTuned, 'Concordia ioredis/Redis, concurrency 100, prefetch 1000', 'concordia-redis', 'redis', { concurrency: 100, prefetch: 1000 });
  drain(RAW_REFERENCE_CASE.redis, 'Raw Lua loop on Redis (10 lanes × batch 100, one connection)', 'raw-redis', 'redis', { lanes: 10, batch: 100 });
  if (!quick) {
    drain('concordia-node-redis/default', 'Concordia node-redis/Redis, defaults (concurrency 10)', 'concordia-redis', 'redis', { client: 'redis' });
    drain('concordia-redis/c50', 'Concordia ioredis/Redis, concurrency 50', 'concordia-redis', 'redis', { concurrency: 50 });
    drain('concordia-redis/c100', 'Concordia ioredis/Redis, concurrency 100', 'concordia-redis', 'redis', { concurrency: 100 });
    drain('concordia-redis/c10-p1000', 'Concordia ioredis/Redis, concurrency 10, prefetch 1000', 'concordia-redis', 'redis', { prefetch: 1000 });
    // BullMQ at the concurrency the issue quotes and its documentation's example uses.
    drain('bullmq/c10', 'BullMQ on Redis, concurrency 10', 'bullmq', 'redis', { concurrency: 10 });
    drain('bullmq/c50', 'BullMQ on Redis, concurrency 50', 'bullmq', 'redis', { concurrency: 50 });
  }

  // 3. Enqueue inside transactions (PostgreSQL).
  const single = quick ? 100 : 1000;
  for (const adapter of ['pg', 'knex', 'prisma'] as const) {
    const name = adapter === 'pg' ? 'pg' : adapter === 'knex' ? 'knex/pg' : 'Prisma/pg';
    const base = { scenario: 'enqueue' as const, impl: 'concordia' as const, db: 'postgres' as const, capSeconds: 60 };
    out.push({ ...base, id: `enqueue/concordia-${adapter}/1-per-tx`, label: `${name}: 1 job/tx, sequential`, n: single, opts: { adapter, mode: 'single', concurrency: 1 } });
    out.push({ ...base, id: `enqueue/concordia-${adapter}/1-per-tx-c10`, label: `${name}: 1 job/tx, 10 concurrent`, n: single * 2, opts: { adapter, mode: 'single', concurrency: 10 } });
    if (adapter === 'pg') {
      // The same with the enqueue NOTIFY off: what the wake-up costs a busy producer.
      out.push({ ...base, id: `enqueue/concordia-${adapter}/1-per-tx-c10-nonotify`, label: `${name}: 1 job/tx, 10 concurrent, notify off`, n: single * 2, opts: { adapter, mode: 'single', concurrency: 10, notify: false } });
    }
    // 50 transactions (quick: N): twenty 20 ms transactions were mostly JIT warm-up.
    out.push({ ...base, id: `enqueue/concordia-${adapter}/1000-per-tx`, label: `${name}: enqueueMany 1,000/tx`, n: quick ? N : 50_000, opts: { adapter, mode: 'batch', batch: 1000 } });
  }

  // Redis: jobs enqueued inside the application's MULTI, next to one write of its own.
  {
    const base = { scenario: 'enqueue' as const, impl: 'concordia-redis' as const, db: 'redis' as const, capSeconds: 60 };
    out.push({ ...base, id: 'enqueue/concordia-redis/1000-per-multi', label: 'ioredis/Redis: enqueueMany 1,000/MULTI', n: quick ? N : 50_000, opts: { mode: 'batch', batch: 1000 } });
    if (!quick) {
      // Ten times the PostgreSQL cases' count: a MULTI takes a tenth of a transaction's time, and
      // 1,000 of them would be over before the JIT warmed up.
      out.push({ ...base, id: 'enqueue/concordia-redis/1-per-multi', label: 'ioredis/Redis: 1 job/MULTI, sequential', n: single * 10, opts: { mode: 'single', concurrency: 1 } });
      out.push({ ...base, id: 'enqueue/concordia-redis/1-per-multi-c10', label: 'ioredis/Redis: 1 job/MULTI, 10 concurrent', n: single * 20, opts: { mode: 'single', concurrency: 10 } });
      out.push({ ...base, id: 'enqueue/concordia-node-redis/1000-per-multi', label: 'node-redis/Redis: enqueueMany 1,000/MULTI', n: 50_000, opts: { mode: 'batch', batch: 1000, client: 'redis' } });
    }
  }

  // DynamoDB, on DynamoDB Local when one is given (BENCH_DYNAMODB_ENDPOINT): the emulator's speed
  // is not the service's; the requests per job the cases report are what carries over.
  if (process.env['BENCH_DYNAMODB_ENDPOINT'] || process.env['CONCORDIA_DYNAMODB_ENDPOINT']) {
    const n = quick ? 500 : 5_000;
    const ddb = { db: 'dynamodb' as const, capSeconds: quick ? 20 : 60 };
    out.push({ ...ddb, scenario: 'drain', impl: 'concordia-dynamodb', id: 'drain/concordia-dynamodb/default', label: 'Concordia on DynamoDB Local, defaults (concurrency 10)', n, opts: {} });
    out.push({ ...ddb, scenario: 'drain', impl: 'concordia-dynamodb', id: 'drain/concordia-dynamodb/c100', label: 'Concordia on DynamoDB Local, concurrency 100', n, opts: { concurrency: 100 } });
    out.push({ ...ddb, scenario: 'drain', impl: 'raw-dynamodb', id: 'drain/raw-dynamodb/10x100', label: 'Raw loop on DynamoDB Local (10 lanes × Query 100, two updates a job)', n, opts: { lanes: 10, batch: 100 } });
    out.push({ ...ddb, scenario: 'enqueue', impl: 'concordia-dynamodb', id: 'enqueue/concordia-dynamodb/99-per-tx', label: 'DynamoDB Local: enqueueMany 99/TransactWriteItems (+1 own write)', n, opts: { batch: 99 } });
    out.push({ ...ddb, scenario: 'enqueue', impl: 'concordia-dynamodb', id: 'enqueue/concordia-dynamodb/1-per-tx-c10', label: 'DynamoDB Local: 1 job/TransactWriteItems, 10 concurrent', n: quick ? 200 : 1000, opts: { batch: 1, concurrency: 10 } });
  }

  // Firestore, on its emulator when one is given (FIRESTORE_EMULATOR_HOST, or
  // BENCH_FIRESTORE_EMULATOR_HOST): the emulator's speed is not the service's; the document reads
  // and writes per job the cases report (what Firestore bills) are what carries over.
  if (process.env['BENCH_FIRESTORE_EMULATOR_HOST'] || process.env['FIRESTORE_EMULATOR_HOST']) {
    const n = quick ? 500 : 5_000;
    const note = 'emulator: its jobs/s is not the service\'s; the reads and writes per job carry over';
    const fs = { db: 'firestore' as const, capSeconds: quick ? 30 : 90, note };
    out.push({ ...fs, scenario: 'drain', impl: 'concordia-firestore', id: 'drain/concordia-firestore/default', label: 'Concordia on the Firestore emulator, defaults (concurrency 10)', n, opts: {} });
    out.push({ ...fs, scenario: 'drain', impl: 'concordia-firestore', id: 'drain/concordia-firestore/c100', label: 'Concordia on the Firestore emulator, concurrency 100', n, opts: { concurrency: 100 } });
    out.push({ ...fs, scenario: 'drain', impl: 'raw-firestore', id: 'drain/raw-firestore/10x100', label: 'Raw loop on the Firestore emulator (10 lanes × query 100, two preconditioned updates a job)', n, opts: { lanes: 10, batch: 100 } });
    out.push({ ...fs, scenario: 'enqueue', impl: 'concordia-firestore', id: 'enqueue/concordia-firestore/400-per-tx', label: 'Firestore emulator: enqueueMany 400/runTransaction (+1 own write)', n: quick ? 800 : 8_000, opts: { batch: 400 } });
    out.push({ ...fs, scenario: 'enqueue', impl: 'concordia-firestore', id: 'enqueue/concordia-firestore/1-per-tx-c10', label: 'Firestore emulator: 1 job/runTransaction (+1 own write), 10 concurrent', n: quick ? 200 : 1000, opts: { batch: 1, concurrency: 10 } });
  }

  // 4. Enqueue→start latency with an idle worker.
  const probes = quick ? 10 : 200;
  const lat = { scenario: 'latency' as const, db: 'postgres' as const, n: probes, capSeconds: quick ? 3 : 15 };
  // Poll-only: LISTEN and NOTIFY off, so the poll interval alone bounds the latency.
  out.push({ ...lat, id: 'latency/concordia-pg/poll1000', label: 'Concordia pg, poll only, pollIntervalMs 1000 (default)', impl: 'concordia', opts: { adapter: 'pg', listen: false, notify: false } });
  out.push({ ...lat, id: 'latency/concordia-pg/poll50', label: 'Concordia pg, poll only, pollIntervalMs 50', impl: 'concordia', opts: { adapter: 'pg', pollIntervalMs: 50, listen: false, notify: false } });
  out.push({ ...lat, id: CONCORDIA_CASE.latencyListen, label: 'Concordia pg, defaults (LISTEN/NOTIFY + 1 s poll)', impl: 'concordia', opts: { adapter: 'pg' } });
  // Prisma has no LISTEN of its own: by default the worker opens one from PrismaPg's settings.
  out.push({ ...lat, id: CONCORDIA_CASE.prismaLatencyListen, label: 'Concordia Prisma/pg, defaults (LISTEN from PrismaPg\'s settings + 1 s poll)', impl: 'concordia', opts: { adapter: 'prisma' } });
  // Redis: pub/sub wake-ups; the clock starts as the application sends EXEC.
  out.push({ ...lat, db: 'redis', id: CONCORDIA_CASE.redisLatency, label: 'Concordia ioredis/Redis, defaults (pub/sub wake-up + 1 s poll)', impl: 'concordia-redis', opts: {} });
  out.push({ ...lat, id: 'latency/graphile-worker/default', label: 'graphile-worker, defaults (LISTEN/NOTIFY)', impl: 'graphile-worker', opts: {} });

  // Scenario 4 of the README, multi-process drain: dispatcher processes on one queue, each with
  // its own pool. One process through the same harness is the baseline the four are compared with.
  const mp = { scenario: 'multi-process' as const, impl: 'multi-process' as const, n: N, capSeconds: cap };
  out.push({ ...mp, id: CONCORDIA_CASE.oneProcess, label: 'Concordia pg, 1 process, defaults', db: 'postgres', opts: { adapter: 'pg', processes: 1 } });
  out.push({ ...mp, id: CONCORDIA_CASE.fourProcesses, label: 'Concordia pg, 4 processes, defaults', db: 'postgres', opts: { adapter: 'pg', processes: 4 } });
  out.push({ ...mp, id: CONCORDIA_CASE.fourProcessesTuned, label: 'Concordia pg, 4 processes, concurrency 100 each', db: 'postgres', opts: { adapter: 'pg', processes: 4, concurrency: 100 } });
  out.push({ ...mp, id: 'multi-process/concordia-mysql2/default', label: 'Concordia mysql2/MariaDB, 4 processes, defaults', db: 'mysql', opts: { adapter: 'mysql2', processes: 4 } });

  // Scenario 5 of the README, claim latency next to a long history of finished jobs (PostgreSQL).
  // Prefilling a million rows takes 10–30 s, so quick mode uses a tenth of that, and the label
  // says so.
  const finished = quick ? 100_000 : 1_000_000;
  const avail = quick ? 2000 : 10_000;
  const lt = { scenario: 'large-table' as const, impl: 'large-table' as const, db: 'postgres' as const, n: avail, capSeconds: quick ? 20 : 60 };
  out.push({ ...lt, id: 'large-table/concordia-pg/history', label: `${count(finished)} completed + ${count(avail)} available rows`, opts: { finished } });
  out.push({ ...lt, id: 'large-table/concordia-pg/no-history', label: `${count(avail)} available rows only`, opts: { finished: 0 } });

  // Scenario 6, the dashboard's read endpoints next to a million finished jobs, per database.
  // Filling a million rows takes up to a minute or two per database, so the case runs once per
  // suite (its 20 samples per endpoint give the spread), and quick mode fills 20,000 rows with
  // 5 samples each: a smoke test of the fill, the handler and the EXPLAIN parsing, not a
  // measurement.
  const history = dashboardRows ?? (quick ? 20_000 : 1_000_000);
  for (const [db, name] of [['postgres', 'PostgreSQL'], ['mysql', 'MariaDB'], ['sqlite', 'SQLite']] as const) {
    out.push({
      id: `dashboard-reads/${db}`,
      label: `${name}, ${count(history)} finished jobs`,
      scenario: 'dashboard-reads',
      impl: 'dashboard-reads',
      db,
      n: history,
      capSeconds: quick ? 20 : 240,
      opts: quick ? { samples: 5, warmup: 1 } : { samples: 20, warmup: 3 },
      maxReps: 1,
    });
  }
  return out;
}
