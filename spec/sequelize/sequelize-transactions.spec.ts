/**
 * Sequelize-specific transaction behaviour on PostgreSQL and MariaDB (the `mariadb` dialect,
 * and the `mysql` dialect on mysql2): savepoints, refusal of handles outside a transaction, and
 * model writes committing with the job. SQLite is not covered (no native `sqlite3` package).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob } from '../../lib/index.ts';
import { NotInTransactionError } from '../../lib/errors.ts';
import { isReachable } from '../support/databases.ts';
import { sequelizeHarness } from '../support/sequelize-harness.ts';

const note = defineJob('sequelize_note', { handler: async () => {} });

for (const [db, dialect] of [['postgres', 'mariadb'], ['mysql', 'mariadb'], ['mysql', 'mysql']] as const) {
  describe(`sequelize × ${db} (${db === 'postgres' ? 'postgres' : dialect} dialect): transactions`, () => {
    let h: Awaited<ReturnType<typeof sequelizeHarness>> | undefined;
    beforeAll(async () => {
      if (await isReachable(db)) h = await sequelizeHarness(db, dialect);
    });
    afterAll(async () => h?.close());

    const ids = async () => new Set((await h!.rows()).map((r) => r.id));

    it('a nested transaction (savepoint) rolled back removes its job; the outer one keeps its own', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      let dropped = '';
      const kept = await h.sequelize.transaction(async (t) => {
        const id = await jobs.enqueue(t, note({ n: 1 }));
        await expect(
          h!.sequelize.transaction({ transaction: t }, async (sp) => {
            dropped = await jobs.enqueue(sp, note({ n: 2 }));
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
        return id;
      });
      const seen = await ids();
      expect([seen.has(kept), dropped !== '' && seen.has(dropped)]).toEqual([true, false]);
    });

    it('the Sequelize instance and a finished transaction are refused and write nothing', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const before = (await h.rows()).length;
      await expect(jobs.enqueue(h.sequelize as never, note({}))).rejects.toBeInstanceOf(NotInTransactionError);
      const done = await h.sequelize.transaction(async (t) => t);
      await expect(jobs.enqueue(done, note({}))).rejects.toBeInstanceOf(NotInTransactionError);
      expect((await h.rows()).length).toBe(before);
    });

    it('model writes and the job commit together, and roll back together', async (ctx) => {
      if (!h) return ctx.skip();
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note] });
      const id = await h.sequelize.transaction(async (t) => {
        await h!.Order.create({ id: 6001 }, { transaction: t });
        return jobs.enqueue(t, note({ order: 6001 }));
      });
      let lost = '';
      await expect(
        h.sequelize.transaction(async (t) => {
          await h!.Order.create({ id: 6002 }, { transaction: t });
          lost = await jobs.enqueue(t, note({ order: 6002 }));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const seen = await ids();
      expect([seen.has(id), seen.has(lost)]).toEqual([true, false]);
      expect(await h.orderIds()).toContain(6001);
      expect(await h.orderIds()).not.toContain(6002);
      // cancel() runs on the autocommit executor and relies on its affected-row count.
      expect(await jobs.cancel(id)).toBe(true);
      expect(await jobs.cancel(id)).toBe(false);
    });
  });
}
