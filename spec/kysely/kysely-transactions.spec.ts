/**
 * Kysely-specific transaction behaviour on every database: savepoints, refusal of handles that
 * are not (or no longer) in a transaction, and the ORM's own writes committing with the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob } from '../../lib/index.ts';
import { NotInTransactionError } from '../../lib/errors.ts';
import { isReachable, type Db } from '../support/databases.ts';
import { kyselyHarness } from '../support/kysely-harness.ts';

for (const db of ['postgres', 'mysql', 'sqlite'] as const satisfies readonly Db[]) {
  describe(`kysely × ${db}: transactions`, () => {
    let h: Awaited<ReturnType<typeof kyselyHarness>> | undefined;
    const note = defineJob('kysely_note', { handler: async () => {} });

    beforeAll(async () => {
      if (await isReachable(db)) h = await kyselyHarness(db);
    });
    afterAll(async () => h?.close());

    const ids = async () => new Set((await h!.rows()).map((r) => r.id));

    it('a savepoint rolled back removes its job; the outer transaction keeps its own', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const trx = await h.kysely.startTransaction().execute();
      const kept = await jobs.enqueue(trx, note({ n: 1 }));
      const sp = await trx.savepoint('concordia_sp').execute();
      const dropped = await jobs.enqueue(sp, note({ n: 2 }));
      await sp.rollbackToSavepoint('concordia_sp').execute();
      await trx.commit().execute();
      const seen = await ids();
      expect(seen.has(kept)).toBe(true);
      expect(seen.has(dropped)).toBe(false);
      // The finished controlled transaction is refused rather than autocommitting.
      await expect(jobs.enqueue(trx, note({ n: 3 }))).rejects.toBeInstanceOf(NotInTransactionError);
    });

    it('the Kysely instance itself is refused and writes nothing', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const before = (await h.rows()).length;
      await expect(jobs.enqueue(h.kysely as never, note({}))).rejects.toBeInstanceOf(NotInTransactionError);
      expect((await h.rows()).length).toBe(before);
    });

    it("the query builder's own writes and the job commit together, and roll back together", async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const orders = `${h.table}_orders`;
      const id = await h.kysely.transaction().execute(async (trx) => {
        await trx.insertInto(orders).values({ id: 7001 }).execute();
        return jobs.enqueue(trx, note({ order: 7001 }));
      });
      let lost = '';
      await expect(
        h.kysely.transaction().execute(async (trx) => {
          await trx.insertInto(orders).values({ id: 7002 }).execute();
          lost = await jobs.enqueue(trx, note({ order: 7002 }));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const seen = await ids();
      expect(seen.has(id)).toBe(true);
      expect(seen.has(lost)).toBe(false);
      const orderIds = await h.orderIds();
      expect(orderIds).toContain(7001);
      expect(orderIds).not.toContain(7002);
    });
  });
}
