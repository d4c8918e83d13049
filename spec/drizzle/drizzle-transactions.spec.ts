/**
 * Drizzle-specific transaction behaviour: savepoints (nested tx.transaction), refusal of the
 * root db, the ORM's own writes committing with the job, and on better-sqlite3 the synchronous
 * db.transaction() path (enqueueSync) with the async enqueue refused there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { createJobs, defineJob } from '../../lib/index.ts';
import { NotInTransactionError, StateError } from '../../lib/errors.ts';
import { isReachable } from '../support/databases.ts';
import { drizzleHarness, mysqlOrders, pgOrders, sqliteOrders } from '../support/drizzle-harness.ts';

const note = defineJob('drizzle_note', { handler: async () => {} });

for (const db of ['postgres', 'mysql'] as const) {
  describe(`drizzle × ${db}: transactions`, () => {
    let h: Awaited<ReturnType<typeof drizzleHarness>> | undefined;
    beforeAll(async () => {
      if (await isReachable(db)) h = await drizzleHarness(db);
    });
    afterAll(async () => h?.close());

    it('a nested transaction (savepoint) rolled back removes its job; the outer one keeps its own', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const d = h.drizzle as NodePgDatabase;
      let dropped = '';
      const kept = await d.transaction(async (tx) => {
        const id = await jobs.enqueue(tx, note({ n: 1 }));
        await expect(
          tx.transaction(async (sp) => {
            dropped = await jobs.enqueue(sp, note({ n: 2 }));
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
        return id;
      });
      const seen = new Set((await h.rows()).map((r) => r.id));
      expect(seen.has(kept)).toBe(true);
      expect(dropped).not.toBe('');
      expect(seen.has(dropped)).toBe(false);
    });

    it("the root db is refused; Drizzle's own inserts and the job commit or roll back together", async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      await expect(jobs.enqueue(h.drizzle as never, note({}))).rejects.toBeInstanceOf(NotInTransactionError);
      // mysql2's Drizzle API has the same shape for these calls; the pg types stand in for both
      // at compile time, while each database gets its own table definition at run time.
      const orders = db === 'postgres' ? pgOrders(h.table) : (mysqlOrders(h.table) as unknown as ReturnType<typeof pgOrders>);
      const d = h.drizzle as NodePgDatabase;
      const id = await d.transaction(async (tx) => {
        await tx.insert(orders).values({ id: 8001 });
        return jobs.enqueue(tx, note({ order: 8001 }));
      });
      let lost = '';
      await expect(
        d.transaction(async (tx) => {
          await tx.insert(orders).values({ id: 8002 });
          lost = await jobs.enqueue(tx, note({ order: 8002 }));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const seen = new Set((await h.rows()).map((r) => r.id));
      expect([seen.has(id), seen.has(lost)]).toEqual([true, false]);
      expect(await h.orderIds()).toEqual(expect.arrayContaining([8001]));
      expect(await h.orderIds()).not.toContain(8002);
    });
  });
}

describe('drizzle × sqlite: the synchronous db.transaction()', () => {
  let h: Awaited<ReturnType<typeof drizzleHarness>>;
  beforeAll(async () => {
    h = await drizzleHarness('sqlite');
  });
  afterAll(async () => h.close());

  const lite = () => h.drizzle as BetterSQLite3Database;
  const orders = () => sqliteOrders(h.table);
  const ids = async () => new Set((await h.rows()).map((r) => r.id));

  it('enqueueSync inside db.transaction commits with the ORM write, and rolls back with it', async () => {
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
    const id = lite().transaction((tx) => {
      tx.insert(orders()).values({ id: 9001 }).run();
      return jobs.enqueueSync(tx, note({ order: 9001 }));
    });
    let lost = '';
    expect(() =>
      lite().transaction((tx) => {
        tx.insert(orders()).values({ id: 9002 }).run();
        lost = jobs.enqueueSync(tx, note({ order: 9002 }));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    const seen = await ids();
    expect([seen.has(id), lost !== '' && seen.has(lost)]).toEqual([true, false]);
    expect(await h.orderIds()).toContain(9001);
    expect(await h.orderIds()).not.toContain(9002);
  });

  it('a nested transaction (savepoint) rolled back removes its job', async () => {
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
    let dropped = '';
    const kept = lite().transaction((tx) => {
      const outer = jobs.enqueueSync(tx, note({ n: 1 }));
      expect(() =>
        tx.transaction((sp) => {
          dropped = jobs.enqueueSync(sp, note({ n: 2 }));
          throw new Error('inner');
        }),
      ).toThrow('inner');
      return outer;
    });
    const seen = await ids();
    expect([seen.has(kept), seen.has(dropped)]).toEqual([true, false]);
  });

  it('async enqueue inside the synchronous transaction is refused with a pointer to enqueueSync, and writes nothing', async () => {
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
    const before = (await h.rows()).length;
    let pending!: Promise<string>;
    lite().transaction((tx) => {
      pending = jobs.enqueue(tx, note({}));
    });
    const err = await pending.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(/enqueueSync/);
    expect((await h.rows()).length).toBe(before);
  });

  it('a finished tx, and the db outside any transaction, are refused', async () => {
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
    let leaked: unknown;
    lite().transaction((tx) => {
      leaked = tx;
    });
    expect(() => jobs.enqueueSync(leaked as never, note({}))).toThrow(NotInTransactionError);
    expect(() => jobs.enqueueSync(lite(), note({}))).toThrow(NotInTransactionError);
  });
});
