/**
 * Several worker processes share one table; one is killed with SIGKILL while it runs jobs.
 * Every job still completes (its lease expires and another process rescues it), and only jobs
 * the killed process held (started, or claimed ahead for its buffer) ever needed a second attempt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob } from '../../lib/index.ts';
import { isReachable, MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { inspector } from '../support/harnesses.ts';
import { sqlInspection } from '../support/harness.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import pg from 'pg';
import mysql from 'mysql2/promise';
import Database from 'better-sqlite3';

const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe.each(['postgres', 'mysql', 'sqlite'] as const)('SIGKILL of a worker process on %s', (db: Db) => {
  it('loses no job, and re-runs only what the killed process held', async (ctx) => {
    if (!(await isReachable(db))) return ctx.skip();
    const table = uniqueTable('chaos');
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    const target = db === 'postgres' ? PG_URL : db === 'mysql' ? MYSQL_URL : sqlitePath!;
    const ins = inspector(db, sqlitePath);
    const view = sqlInspection(db, table, ins.ex);
    await view.setup();
    // The parent enqueues through the same adapters the workers use.
    const pool = db === 'postgres' ? new pg.Pool({ connectionString: PG_URL }) : null;
    const mpool = db === 'mysql' ? mysql.createPool({ uri: MYSQL_URL }) : null;
    const conn = db === 'sqlite' ? new Database(sqlitePath!) : null;
    const adapter = pool ? pgAdapter(pool) : mpool ? mysql2Adapter(mpool) : betterSqlite3Adapter(conn!);
    const work = defineJob('chaos_work', { handler: async () => {} });
    const jobs = createJobs({ adapter: adapter as never, table, jobs: [work] });
    const N = 150;
    const startedBy = new Map<number, Set<string>>();
    const completed = new Set<string>();
    let allDone!: () => void;
    const done = new Promise<void>((r) => (allDone = r));
    let ready = 0;
    let allReady!: () => void;
    const everyoneReady = new Promise<void>((r) => (allReady = r));
    // The first process to have started 5 jobs is the one killed: whichever it is, it holds
    // running jobs at that moment.
    let victim = -1;
    let pickVictim!: (i: number) => void;
    const victimChosen = new Promise<number>((r) => (pickVictim = r));
    const mine: ChildProcess[] = [];
    const workerIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [script, db, table, target], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      mine.push(child);
      const started = new Set<string>();
      startedBy.set(i, started);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const [what, id] = line.split(' ');
        if (what === 'ready' && id) workerIds[i] = id;
        if (what === 'ready' && ++ready === 3) allReady();
        if (what === 'started' && id) {
          started.add(id);
          if (victim < 0 && started.size >= 5) pickVictim((victim = i));
        }
        if (what === 'completed' && id) {
          completed.add(id);
          if (completed.size === N) allDone();
        }
      });
    }
    // Every process is up and polling before there is any work.
    await everyoneReady;
    await jobs.enqueueManyAutocommit(Array.from({ length: N }, (_, i) => work({ ms: 40 + (i % 5) * 20 })));
    const v = await victimChosen;
    mine[v]!.kill('SIGKILL');
    // What the killed process held at its death: running jobs still leased to it (started, or
    // claimed ahead and not started yet). Their leases outlive this read (1.5 s).
    const held = new Set((await view.rows()).filter((r) => r.state === 'running' && r.lockedBy === workerIds[v]).map((r) => r.id));
    await done;
    const survivors = mine.filter((_, i) => i !== v);
    await Promise.all(survivors.map((c) => new Promise((r) => (c.on('exit', r), c.kill('SIGTERM')))));

    const rows = (await view.rows()).filter((r) => r.kind === 'chaos_work');
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.state === 'completed')).toBe(true);
    const reRun = rows.filter((r) => r.attempt > 1).map((r) => r.id);
    // Only jobs the killed process held can have needed a second attempt.
    const victimStarted = startedBy.get(v)!;
    expect(reRun.every((id) => held.has(id))).toBe(true);
    expect([...held].filter((id) => victimStarted.has(id)).length).toBeGreaterThan(0);
    expect(reRun.length).toBeGreaterThan(0);
    for (const id of reRun) {
      expect(rows.find((r) => r.id === id)?.errors?.[0]?.reason).toBe('lease_expired');
    }
    await view.teardown();
    await ins.close();
    await pool?.end();
    await mpool?.end();
    conn?.close();
  }, 60_000);
});
