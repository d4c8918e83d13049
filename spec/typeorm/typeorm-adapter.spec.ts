/**
 * TypeORM-specific behaviour on every database: savepoints, refusal of handles outside a
 * transaction, and entity writes committing (or not) together with the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource, EntitySchema } from 'typeorm';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { NotInTransactionError } from '../../lib/errors.ts';
import { typeormAdapter } from '../../adapters/typeorm/typeorm-adapter.ts';
import { isReachable, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { sqlInspection } from '../support/harness.ts';
import { inspector } from '../support/harnesses.ts';
import { typeormDataSource } from '../support/typeorm-harness.ts';

const ping = defineJob('typeorm_ping', { handler: async () => {} });

describe.each<Db>(['postgres', 'mysql', 'sqlite'])('typeorm adapter on %s', (db) => {
  let available = true;
  let ds: DataSource;
  let Order: EntitySchema<{ id: number }>;
  let jobs: Jobs<unknown>;
  let view: ReturnType<typeof sqlInspection>;
  let ins: ReturnType<typeof inspector>;

  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    const table = uniqueTable('cjto');
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    ({ ds, Order } = await typeormDataSource(db, table, sqlitePath));
    ins = inspector(db, sqlitePath);
    view = sqlInspection(db, table, ins.ex);
    jobs = createJobs({ adapter: typeormAdapter(ds), table, jobs: [ping] }) as Jobs<unknown>;
  });

  afterAll(async () => {
    if (!available) return;
    await view.teardown();
    await ins.close();
    await ds.destroy();
  });

  const ids = async () => (await view.rows()).map((r) => r.id);

  it('a nested em.transaction that rolls back removes its job and keeps the outer one', async (ctx) => {
    if (!available) return ctx.skip();
    let inner = '';
    const outer = await ds.transaction(async (em) => {
      const id = await jobs.enqueue(em, ping({ n: 'outer' }));
      await expect(
        em.transaction(async (nested) => {
          inner = await jobs.enqueue(nested, ping({ n: 'inner' }));
          throw new Error('undo the savepoint');
        }),
      ).rejects.toThrow('undo the savepoint');
      return id;
    });
    expect(inner).not.toBe('');
    const all = await ids();
    expect(all).toContain(outer);
    expect(all).not.toContain(inner);
  });

  it('a QueryRunner savepoint rolled back removes its job', async (ctx) => {
    if (!available) return ctx.skip();
    const qr = ds.createQueryRunner();
    try {
      await qr.startTransaction();
      const kept = await jobs.enqueue(qr, ping({ n: 'kept' }));
      await qr.startTransaction(); // depth 2: a SAVEPOINT
      const undone = await jobs.enqueue(qr, ping({ n: 'undone' }));
      await qr.rollbackTransaction(); // back to the savepoint
      await qr.commitTransaction();
      const all = await ids();
      expect(all).toContain(kept);
      expect(all).not.toContain(undone);
    } finally {
      await qr.release();
    }
  });

  it('handles outside a transaction are refused and write nothing', async (ctx) => {
    if (!available) return ctx.skip();
    const before = (await ids()).length;
    await expect(jobs.enqueue(ds.manager, ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    const leaked = await ds.transaction(async (em) => em);
    await expect(jobs.enqueue(leaked, ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    const qr = ds.createQueryRunner();
    try {
      await expect(jobs.enqueue(qr, ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    } finally {
      await qr.release();
    }
    expect((await ids()).length).toBe(before);
  });

  it("the ORM's entity writes and the enqueue commit or roll back together", async (ctx) => {
    if (!available) return ctx.skip();
    const committed = await ds.transaction(async (em) => {
      await em.save(Order, { id: 501 });
      return jobs.enqueue(em, ping({ order: 501 }));
    });
    let lost = '';
    await expect(
      ds.transaction(async (em) => {
        await em.save(Order, { id: 502 });
        lost = await jobs.enqueue(em, ping({ order: 502 }));
        throw new Error('abort the order');
      }),
    ).rejects.toThrow('abort the order');
    const all = await ids();
    expect(all).toContain(committed);
    expect(all).not.toContain(lost);
    const orders = await view.orderIds();
    expect(orders).toContain(501);
    expect(orders).not.toContain(502);
  });

  it("a dispatcher statement issued during a user's transaction never joins it", async (ctx) => {
    if (!available) return ctx.skip();
    // On SQLite TypeORM shares one connection: without the adapter's wait, this autocommit
    // insert would run inside the user's transaction and vanish with its rollback.
    let autocommitted: Promise<string> | undefined;
    await expect(
      ds.transaction(async (em) => {
        await jobs.enqueue(em, ping({ n: 'rolled back' }));
        autocommitted = jobs.enqueueAutocommit(ping({ n: 'independent' }));
        await em.query('SELECT 1');
        throw new Error('roll back the user transaction');
      }),
    ).rejects.toThrow('roll back the user transaction');
    const id = await autocommitted!;
    const rows = await view.rows();
    expect(rows.find((r) => r.id === id)?.args).toEqual({ n: 'independent' });
    expect(rows.some((r) => (r.args as { n?: string }).n === 'rolled back')).toBe(false);
  });
});
