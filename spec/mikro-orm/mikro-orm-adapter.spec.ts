/**
 * MikroORM-specific behaviour on every database: nested transactional (savepoints), refusal of
 * EntityManagers outside a transaction, and unit-of-work writes committing with the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntitySchema, MikroORM } from '@mikro-orm/core';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { NotInTransactionError } from '../../lib/errors.ts';
import { mikroOrmAdapter } from '../../adapters/mikro-orm/mikro-orm-adapter.ts';
import { isReachable, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { sqlInspection } from '../support/harness.ts';
import { inspector } from '../support/harnesses.ts';
import { mikroOrm } from '../support/mikro-orm-harness.ts';

const ping = defineJob('mikro_ping', { handler: async () => {} });

describe.each<Db>(['postgres', 'mysql', 'sqlite'])('mikro-orm adapter on %s', (db) => {
  let available = true;
  let orm: MikroORM;
  let Order: EntitySchema<{ id: number }>;
  let jobs: Jobs<unknown>;
  let view: ReturnType<typeof sqlInspection>;
  let ins: ReturnType<typeof inspector>;

  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    const table = uniqueTable('cjmo');
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    ({ orm, Order } = await mikroOrm(db, table, sqlitePath));
    ins = inspector(db, sqlitePath);
    view = sqlInspection(db, table, ins.ex);
    jobs = createJobs({ adapter: mikroOrmAdapter(orm), table, jobs: [ping] }) as Jobs<unknown>;
  });

  afterAll(async () => {
    if (!available) return;
    await view.teardown();
    await ins.close();
    await orm.close(true);
  });

  const ids = async () => (await view.rows()).map((r) => r.id);

  it('a nested transactional that rolls back removes its job and keeps the outer one', async (ctx) => {
    if (!available) return ctx.skip();
    let inner = '';
    const outer = await orm.em.fork().transactional(async (tem) => {
      const id = await jobs.enqueue(tem, ping({ n: 'outer' }));
      await expect(
        tem.transactional(async (nested) => {
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

  it('EntityManagers outside a transaction are refused and write nothing', async (ctx) => {
    if (!available) return ctx.skip();
    const before = (await ids()).length;
    await expect(jobs.enqueue(orm.em.fork(), ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    const em = orm.em.fork();
    await em.transactional(async () => {
      // The classic slip: the outer `em` instead of the `tem` the callback was given.
      await expect(jobs.enqueue(em, ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    });
    const leaked = await orm.em.fork().transactional(async (tem) => tem);
    await expect(jobs.enqueue(leaked, ping({}))).rejects.toBeInstanceOf(NotInTransactionError);
    expect((await ids()).length).toBe(before);
  });

  it('unit-of-work writes and the enqueue commit or roll back together', async (ctx) => {
    if (!available) return ctx.skip();
    const committed = await orm.em.fork().transactional(async (tem) => {
      tem.create(Order, { id: 601 });
      await tem.flush();
      return jobs.enqueue(tem, ping({ order: 601 }));
    });
    let lost = '';
    await expect(
      orm.em.fork().transactional(async (tem) => {
        tem.create(Order, { id: 602 });
        lost = await jobs.enqueue(tem, ping({ order: 602 }));
        throw new Error('abort the order');
      }),
    ).rejects.toThrow('abort the order');
    const all = await ids();
    expect(all).toContain(committed);
    expect(all).not.toContain(lost);
    const orders = await view.orderIds();
    expect(orders).toContain(601);
    expect(orders).not.toContain(602);
  });
});
