/**
 * The dispatcher's PostgreSQL statements run as named prepared statements (pg, Knex, and Prisma
 * with `prismaStatementNames()`), can be switched off for poolers that cannot keep them, and the
 * claim's relaxed commit (`synchronous_commit = off` for its own transaction) never leaks into
 * the pooled session that later serves the application.
 *
 * Every pool here has one connection, so the session that ran the dispatcher's statements is the
 * one `pg_prepared_statements` and `SHOW` are asked about.
 */
import knexFactory from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knexAdapter } from '../../adapters/knex/knex-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { prismaAdapter } from '../../adapters/prisma/prisma-adapter.ts';
import { createJobs, defineJob, silentLogger, type Adapter } from '../../lib/index.ts';
import { ddl, isReachable, PG_URL, uniqueTable } from '../support/databases.ts';
import { openPrismaClient } from '../support/prisma-harness.ts';

const reachable = await isReachable('postgres');
const noop = defineJob<{ n: number }>('noop', { handler: async () => {} });

describe.skipIf(!reachable)('PostgreSQL prepared statements', () => {
  const table = uniqueTable('prep');
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    for (const stmt of ddl('postgres', table)) await admin.query(stmt);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  /** Enqueues three jobs, drains them with one worker, and returns the names prepared in `session`. */
  async function drainThenInspect(adapter: Adapter<unknown>, session: (sql: string) => Promise<Record<string, unknown>[]>): Promise<{ prepared: string[]; syncCommit: string }> {
    const jobs = createJobs({ adapter, table, jobs: [noop] });
    await jobs.enqueueManyAutocommit([noop({ n: 1 }), noop({ n: 2 }), noop({ n: 3 })]);
    const worker = jobs.createWorker({ listen: false, pollIntervalMs: 20 });
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      worker.on('job:completed', () => {
        if (++done === 3) resolve();
      });
    });
    await worker.start();
    await finished;
    await worker.stop();
    const prepared = (await session('SELECT name FROM pg_prepared_statements ORDER BY name')).map((r) => String(r['name']));
    const syncCommit = String((await session('SHOW synchronous_commit'))[0]?.['synchronous_commit']);
    return { prepared, syncCommit };
  }

  it('pg: dispatcher statements are prepared; the claim leaves synchronous_commit as it was', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      const r = await drainThenInspect(pgAdapter(pool) as Adapter<unknown>, async (sql) => (await pool.query(sql)).rows);
      expect(r.prepared.length).toBeGreaterThanOrEqual(2);
      expect(r.prepared.every((n) => n.startsWith('concordia_'))).toBe(true);
      expect(r.syncCommit).toBe('on');
    } finally {
      await pool.end();
    }
  });

  it('pg: preparedStatements: false prepares nothing', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      const r = await drainThenInspect(pgAdapter(pool, { preparedStatements: false }) as Adapter<unknown>, async (sql) => (await pool.query(sql)).rows);
      expect(r.prepared).toEqual([]);
      expect(r.syncCommit).toBe('on');
    } finally {
      await pool.end();
    }
  });

  it('knex: dispatcher statements are prepared on its pooled connection; off when asked', async () => {
    for (const preparedStatements of [true, false]) {
      const knex = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
      try {
        const r = await drainThenInspect(knexAdapter(knex, { preparedStatements }) as Adapter<unknown>, async (sql) => (await knex.raw(sql)).rows as Record<string, unknown>[]);
        if (preparedStatements) expect(r.prepared.length).toBeGreaterThanOrEqual(2);
        else expect(r.prepared).toEqual([]);
        expect(r.syncCommit).toBe('on');
      } finally {
        await knex.destroy();
      }
    }
  });

  it('pg and knex: two adapters over one pool (two tables) share its connection without a name clash', async () => {
    const other = uniqueTable('prep2');
    for (const stmt of ddl('postgres', other)) await admin.query(stmt);
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const knex = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
    try {
      for (const [label, make] of [
        ['pg', () => pgAdapter(pool) as Adapter<unknown>],
        ['knex', () => knexAdapter(knex) as Adapter<unknown>],
      ] as const) {
        // Each drain prepares its statements on the one connection; the second adapter's texts
        // name another table, so before names came from the text they clashed with the first's.
        for (const t of [table, other]) {
          const jobs = createJobs({ adapter: make(), table: t, jobs: [noop] });
          await jobs.enqueueManyAutocommit([noop({ n: 1 }), noop({ n: 2 })]);
          const worker = jobs.createWorker({ listen: false, pollIntervalMs: 20, logger: silentLogger });
          const errors: unknown[] = [];
          worker.on('db-error', ({ error }) => errors.push(error));
          let done = 0;
          const finished = new Promise<void>((resolve) => worker.on('job:completed', () => void (++done === 2 && resolve())));
          await worker.start();
          await finished;
          await worker.stop();
          expect({ label, table: t, errors: errors.map(String) }).toEqual({ label, table: t, errors: [] });
        }
      }
    } finally {
      await pool.end();
      await knex.destroy();
      await admin.query(`DROP TABLE IF EXISTS ${other}`);
    }
  });

  it('prisma: prismaStatementNames() prepares them through @prisma/adapter-pg', async () => {
    const client = await openPrismaClient({ db: 'postgres', connections: 1, statementNames: true });
    try {
      const r = await drainThenInspect(prismaAdapter(client) as Adapter<unknown>, async (sql) => (await client.$queryRawUnsafe(sql)) as Record<string, unknown>[]);
      expect(r.prepared.some((n) => n.startsWith('concordia_prisma_'))).toBe(true);
      expect(r.syncCommit).toBe('on');
    } finally {
      await client.$disconnect();
    }
  });
});
