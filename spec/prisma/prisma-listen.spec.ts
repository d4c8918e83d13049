/**
 * Prisma on PostgreSQL: a job committed through `prisma.$transaction` wakes an idle worker by
 * NOTIFY, not by its poll. By default the LISTEN connection uses the settings of the client's
 * `PrismaPg`; `listen` overrides them or (with `false`) turns LISTEN off. The waking workers poll
 * once an hour here, so only the notification can start the job within the test: Prisma has no
 * commit hook that would wake them in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createJobs, defineJob, silentLogger, type Adapter, type Worker } from '../../lib/index.ts';
import { prismaAdapter, type PrismaClientLike, type PrismaTransactionClient } from '../../adapters/prisma/prisma-adapter.ts';
import { isReachable, PG_URL } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { openPrismaClient, prismaHarness, type PrismaTarget, type TestPrismaClient } from '../support/prisma-harness.ts';

describe('prisma × postgres: NOTIFY wake-ups', () => {
  let h: Harness<PrismaTransactionClient> | undefined;
  const workers: Worker[] = [];
  const clients: TestPrismaClient[] = [];
  beforeAll(async () => {
    if (await isReachable('postgres')) h = await prismaHarness('postgres');
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.$disconnect()));
    await h?.close();
  });

  const ping = defineJob('prisma_notify_ping', { handler: async () => {} });

  /** A client of its own on the harness's database, disconnected after the suite. */
  async function client(target: Omit<PrismaTarget, 'db'> = {}): Promise<TestPrismaClient> {
    const c = await openPrismaClient({ db: 'postgres', connections: 2, ...target });
    clients.push(c);
    return c;
  }

  /**
   * Starts an idle worker on `adapter` polling once an hour, waits until it LISTENs and has
   * settled, then commits a job through `prisma.$transaction` and waits for it to complete.
   */
  async function wakesByNotify(adapter: Adapter<PrismaTransactionClient>, prisma: PrismaClientLike, queue: string): Promise<void> {
    const jobs = createJobs({ adapter, table: h!.table, jobs: [ping] });
    const w = jobs.createWorker({ queues: [queue], pollIntervalMs: 3_600_000, logger: silentLogger });
    workers.push(w);
    const listening = w.next('listening');
    await w.start();
    await listening;
    // Settle first: the wake-up that follows `listening` must not be what picks the job up.
    await w.drained();
    const completed = w.next('job:completed');
    await prisma.$transaction((tx) => jobs.enqueue(tx, ping({}), { queue }));
    expect((await completed).job.kind).toBe('prisma_notify_ping');
    await w.stop();
  }

  it('by default, LISTENs with the pool config of the PrismaPg the client was built with', async (ctx) => {
    if (!h) return ctx.skip();
    const prisma = await client();
    const adapter = prismaAdapter(prisma);
    expect(adapter.setupWarnings?.() ?? []).toEqual([]);
    await wakesByNotify(adapter, prisma, 'pn_default_config');
  }, 30_000);

  it('by default, LISTENs with the settings of the pg.Pool given to PrismaPg', async (ctx) => {
    if (!h) return ctx.skip();
    const prisma = await client({ externalPool: true });
    await wakesByNotify(prismaAdapter(prisma), prisma, 'pn_default_pool');
  }, 30_000);

  // An explicit source wins over the detected one; the worker's statements still go through
  // the harness's client.
  const explicit = (what: string, source: () => string | pg.Pool) =>
    it(`with listen: ${what}, LISTENs there`, async (ctx) => {
      if (!h) return ctx.skip();
      const listen = source();
      const prisma = await client();
      try {
        await wakesByNotify(prismaAdapter(prisma, { listen }), prisma, `pn_${typeof listen}`);
      } finally {
        if (typeof listen !== 'string') await listen.end();
      }
    }, 30_000);
  explicit('a connection string', () => PG_URL);
  explicit('a pg.Pool', () => new pg.Pool({ connectionString: PG_URL }));

  it('with listen: false, never LISTENs, and a job still runs when the worker is woken', async (ctx) => {
    if (!h) return ctx.skip();
    const prisma = await client();
    const adapter = prismaAdapter(prisma, { listen: false });
    // Without a listen member no worker can open a LISTEN connection at all.
    expect(adapter.listen).toBeUndefined();
    expect(adapter.setupWarnings).toBeUndefined();
    const jobs = createJobs({ adapter, table: h.table, jobs: [ping] });
    const w = jobs.createWorker({ queues: ['pn_off'], pollIntervalMs: 3_600_000, logger: silentLogger });
    workers.push(w);
    let listened = 0;
    w.on('listening', () => listened++);
    await w.start();
    await w.drained();
    await prisma.$transaction((tx) => jobs.enqueue(tx, ping({}), { queue: 'pn_off' }));
    const completed = w.next('job:completed');
    // drained() wakes the worker for a fresh claim: the only way this job starts within the hour.
    await w.drained();
    expect((await completed).job.kind).toBe('prisma_notify_ping');
    await w.stop();
    expect(listened).toBe(0);
  }, 30_000);

  it('when the settings cannot be found, a worker warns once and picks jobs up by polling', async (ctx) => {
    if (!h) return ctx.skip();
    const prisma = await client();
    // A working client whose private fields are not where Prisma 7 keeps them, as a future
    // Prisma that renames them would be.
    const renamed: PrismaClientLike = {
      $connect: () => prisma.$connect(),
      $transaction: (fn, options) => prisma.$transaction(fn, options),
      $queryRawUnsafe: (sql, ...values) => prisma.$queryRawUnsafe(sql, ...values),
      $executeRawUnsafe: (sql, ...values) => prisma.$executeRawUnsafe(sql, ...values),
    };
    const adapter = prismaAdapter(renamed, { provider: 'postgresql' });
    expect(adapter.listen).toBeUndefined();
    const warnings: string[] = [];
    const jobs = createJobs({ adapter, table: h.table, jobs: [ping] });
    const w = jobs.createWorker({
      queues: ['pn_undetected'],
      pollIntervalMs: 50,
      logger: { warn: (message) => warnings.push(message), error: () => {} },
    });
    workers.push(w);
    await w.start();
    await w.drained();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot find the driver adapter.*prismaAdapter\(prisma, \{ listen: /);
    // No LISTEN and no commit hook: only the worker's own poll can find this job.
    const completed = w.next('job:completed');
    await renamed.$transaction((tx) => jobs.enqueue(tx, ping({}), { queue: 'pn_undetected' }));
    expect((await completed).job.kind).toBe('prisma_notify_ping');
    await w.stop();
  }, 30_000);
});
