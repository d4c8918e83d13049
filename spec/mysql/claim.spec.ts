/**
 * The MariaDB claim at the dialect level, against a real server: claims that overlap never wait
 * for each other and never take the same job, over one queue or several; rows another
 * transaction holds are skipped, not waited for; the order across queues is the claim order;
 * and a claim costs three autocommitted statements, with no transaction of the adapter's.
 *
 * Overlap is made deterministic by an executor that stops claimer A before its second statement
 * and runs claimer B to the end meanwhile. Every pool sets a one-second lock wait, so a claim
 * that waited on a lock would fail with an error instead of passing slowly.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { isDeadlock, MysqlDialect } from '../../lib/dialects/mysql-dialect.ts';
import type { ClaimParams, DispatcherDb } from '../../lib/dialects/dialect.ts';
import type { ClaimedJob } from '../../lib/job.ts';
import type { Executor } from '../../lib/sql/executor.ts';
import { ddl, isReachable, MYSQL_URL, uniqueTable } from '../support/databases.ts';

const reachable = await isReachable('mysql');

describe.skipIf(!reachable)('MariaDB claim', () => {
  const table = uniqueTable('claim');
  const dialect = new MysqlDialect(table);
  const pools: mysql.Pool[] = [];
  let admin: mysql.Pool;

  /** A pool whose connections give up on a row lock after one second. */
  function pool(): mysql.Pool {
    const p = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    p.on('connection', (conn) => void conn.query('SET SESSION innodb_lock_wait_timeout = 1'));
    pools.push(p);
    return p;
  }

  function dispatcherDb(p: mysql.Pool): DispatcherDb {
    const adapter = mysql2Adapter(p);
    return { autocommit: adapter.autocommit(), transaction: adapter.transaction };
  }

  /**
   * A DispatcherDb that runs `between` before the claim's second statement, whichever executor
   * (autocommit or a transaction's) it goes through, and counts statements and transactions.
   */
  function steppedDb(base: DispatcherDb, between: () => Promise<void>): DispatcherDb & { statements: number; transactions: number } {
    const counted = { statements: 0, transactions: 0 };
    const step = async (): Promise<void> => {
      if (++counted.statements === 2) await between();
    };
    const wrap = (ex: Executor): Executor => ({
      dialect: ex.dialect,
      query: async (sql, params) => (await step(), ex.query(sql, params)),
      execute: async (sql, params) => (await step(), ex.execute(sql, params)),
    });
    return Object.assign(counted, {
      autocommit: wrap(base.autocommit),
      transaction: <T>(fn: (ex: Executor) => Promise<T>) => {
        counted.transactions++;
        return base.transaction((ex) => fn(wrap(ex)));
      },
    });
  }

  const params = (queues: string[], limit: number): ClaimParams => ({ queues, limit, workerId: 'w', leaseMs: 30_000, now: null });

  async function enqueue(queue: string, n: number, priority = 0): Promise<void> {
    const values = Array.from({ length: n }, () => `(?, 'k', '{}', ${priority}, UTC_TIMESTAMP(3) - INTERVAL 1 SECOND, UTC_TIMESTAMP(3))`);
    await admin.query(`INSERT INTO ${table} (queue, kind, args, priority, run_at, created_at) VALUES ${values.join(', ')}`, Array(n).fill(queue));
  }

  async function running(): Promise<{ id: string; token: string }[]> {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT CAST(id AS CHAR) AS id, lease_token FROM ${table} WHERE state = 'running' ORDER BY id`);
    return rows.map((r) => ({ id: String(r['id']), token: String(r['lease_token']) }));
  }

  function expectHeld(jobs: ClaimedJob[], rows: { id: string; token: string }[]): void {
    const byId = new Map(rows.map((r) => [r.id, r.token]));
    for (const job of jobs) expect(byId.get(job.id)).toBe(job.leaseToken);
  }

  beforeAll(async () => {
    admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    for (const stmt of ddl('mysql', table)) await admin.query(stmt);
  });
  beforeEach(async () => {
    await admin.query(`DELETE FROM ${table}`);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
    await Promise.all(pools.map((p) => p.end()));
  });

  for (const queues of [['one'], ['left', 'right']]) {
    it(`two overlapping claims over ${queues.join(' + ')} both get jobs, none twice`, async () => {
      for (const q of queues) await enqueue(q, 10);
      let b: ClaimedJob[] = [];
      const bDb = dispatcherDb(pool());
      const aDb = steppedDb(dispatcherDb(pool()), async () => {
        b = await dialect.claim(bDb, params(queues, 4));
      });
      const a = await dialect.claim(aDb, params(queues, 4));
      expect(a).toHaveLength(4);
      expect(b).toHaveLength(4);
      const ids = [...a, ...b].map((j) => j.id);
      expect(new Set(ids).size).toBe(8);
      const rows = await running();
      expect(rows).toHaveLength(8);
      expectHeld([...a, ...b], rows);
    });
  }

  it('skips rows another transaction holds, without waiting for them', async () => {
    await enqueue('left', 4);
    await enqueue('right', 4);
    const holder = await admin.getConnection();
    try {
      await holder.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await holder.beginTransaction();
      // The first two jobs of each queue, locked by primary key (no other row) as a concurrent
      // claimer would hold them.
      const [first] = await holder.query<mysql.RowDataPacket[]>(
        `(SELECT id FROM ${table} WHERE queue = 'left' ORDER BY id LIMIT 2) UNION ALL (SELECT id FROM ${table} WHERE queue = 'right' ORDER BY id LIMIT 2)`,
      );
      const heldIds = new Set(first.map((r) => String(r['id'])));
      // One primary-key lookup each: a scan (which the planner may pick for a tiny table) would
      // lock every row it passes.
      for (const id of heldIds) await holder.query(`SELECT id FROM ${table} WHERE id = ? FOR UPDATE`, [id]);
      const got = await dialect.claim(dispatcherDb(pool()), params(['left', 'right'], 10));
      expect(got).toHaveLength(4);
      for (const job of got) expect(heldIds.has(job.id)).toBe(false);
    } finally {
      await holder.rollback();
      holder.release();
    }
  });

  it('takes jobs across queues in priority, then run_at, then id order, at most `limit`', async () => {
    await enqueue('left', 2, 5);
    await enqueue('right', 2, 0);
    await enqueue('left', 2, 1);
    const got = await dialect.claim(dispatcherDb(pool()), params(['left', 'right'], 5));
    expect(got.map((j) => [j.queue, j.priority])).toEqual([
      ['right', 0],
      ['right', 0],
      ['left', 1],
      ['left', 1],
      ['left', 5],
    ]);
    expect(got.every((j) => j.attempt === 1)).toBe(true);
    expectHeld(got, await running());
  });

  it('leaves out a paused queue and claims nothing when every queue is paused', async () => {
    await enqueue('left', 2);
    await enqueue('right', 2);
    const db = dispatcherDb(pool());
    await dialect.setQueuePaused(db.autocommit, 'left', true, null);
    const got = await dialect.claim(db, params(['left', 'right'], 10));
    expect(got.map((j) => j.queue)).toEqual(['right', 'right']);
    expect(await dialect.claim(db, params(['left'], 10))).toEqual([]);
  });

  it('fits the lease token of the widest id (BIGINT minimum, 20 characters) in lease_token', async () => {
    await admin.query(
      `INSERT INTO ${table} (id, queue, kind, args, run_at, created_at) VALUES (-9223372036854775808, 'one', 'k', '{}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    );
    const got = await dialect.claim(dispatcherDb(pool()), params(['one'], 10));
    expect(got.map((j) => j.id)).toEqual(['-9223372036854775808']);
    expect(got[0]!.leaseToken).toHaveLength(36);
    expectHeld(got, await running());
  });

  it('runs its UPDATE again when InnoDB rolled it back as a deadlock victim, and fails on any other error', async () => {
    await enqueue('one', 3);
    const base = dispatcherDb(pool());
    let updates = 0;
    const failing = (error: Error): DispatcherDb => ({
      ...base,
      autocommit: {
        ...base.autocommit,
        execute: async (sql, params) => {
          // The first UPDATE fails as the server would, before it changes anything.
          if (++updates === 1) throw error;
          return base.autocommit.execute(sql, params);
        },
      },
    });
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { errno: 1213 });
    const got = await dialect.claim(failing(deadlock), params(['one'], 10));
    expect(got).toHaveLength(3);
    expect(updates).toBe(2);
    expectHeld(got, await running());
    updates = 0;
    await enqueue('two', 1);
    await expect(dialect.claim(failing(new Error('Lock wait timeout exceeded')), params(['two'], 10))).rejects.toThrow('Lock wait timeout');
    expect(updates).toBe(1);
  });

  it('recognises the deadlock error through each driver and ORM wrapper', () => {
    const server = Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' });
    expect(isDeadlock(server)).toBe(true);
    expect(isDeadlock(Object.assign(new Error('query failed'), { parent: server }))).toBe(true);
    expect(isDeadlock(Object.assign(new Error('query failed'), { driverError: server }))).toBe(true);
    expect(isDeadlock(new Error('wrapped', { cause: server }))).toBe(true);
    expect(isDeadlock(new Error('Raw query failed. Message: `Deadlock found when trying to get lock; try restarting transaction`'))).toBe(true);
    expect(isDeadlock(Object.assign(new Error('Lock wait timeout exceeded'), { errno: 1205 }))).toBe(false);
    expect(isDeadlock('Deadlock')).toBe(false);
  });

  it('costs three autocommitted statements, and no transaction', async () => {
    await enqueue('one', 3);
    const db = steppedDb(dispatcherDb(pool()), async () => {});
    expect(await dialect.claim(db, params(['one'], 10))).toHaveLength(3);
    expect(db.transactions).toBe(0);
    expect(db.statements).toBe(3);
  });
});
