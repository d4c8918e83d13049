/**
 * Prisma on PostgreSQL with `prismaAdapter(prisma, { listen })`: a job committed through
 * `prisma.$transaction` wakes an idle worker by NOTIFY, not by its poll. The worker polls once an
 * hour here, so only the notification can start the job within the test; without `listen`
 * (Prisma has no LISTEN of its own and no commit hook) it would wait for that poll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createJobs, defineJob, silentLogger, type Worker } from '../../lib/index.ts';
import { prismaAdapter, type PrismaTransactionClient } from '../../adapters/prisma/prisma-adapter.ts';
import { isReachable, PG_URL } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { prismaHarness } from '../support/prisma-harness.ts';

describe('prisma × postgres: NOTIFY wake-ups through the listen option', () => {
  let h: Harness<PrismaTransactionClient> | undefined;
  const workers: Worker[] = [];
  beforeAll(async () => {
    if (await isReachable('postgres')) h = await prismaHarness('postgres');
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await h?.close();
  });

  const wakes = (what: string, source: () => string | pg.Pool) =>
    it(`with ${what}, a job committed in prisma.$transaction starts without waiting for the poll`, async (ctx) => {
      if (!h) return ctx.skip();
      const listen = source();
      // The harness's Prisma adapter runs the statements; `listen` comes from an adapter built
      // with this source (the harness's own adapter listens through a connection string).
      const ping = defineJob('prisma_notify_ping', { handler: async () => {} });
      const jobs = createJobs({ adapter: { ...h.adapter, ...listenOnly(listen) }, table: h.table, jobs: [ping] });
      const w = jobs.createWorker({ queues: [`pn_${typeof listen}`], pollIntervalMs: 3_600_000, logger: silentLogger });
      workers.push(w);
      const listening = w.next('listening');
      await w.start();
      await listening;
      // Settle first: the wake-up that follows `listening` must not be what picks the job up.
      await w.drained();
      const completed = w.next('job:completed');
      await h.inTransaction((tx) => jobs.enqueue(tx, ping({}), { queue: `pn_${typeof listen}` }));
      expect((await completed).job.kind).toBe('prisma_notify_ping');
      await w.stop();
      if (typeof listen !== 'string') await listen.end();
    }, 30_000);

  wakes('a connection string', () => PG_URL);
  wakes('a pg.Pool', () => new pg.Pool({ connectionString: PG_URL }));
});

/** The `listen` member of a Prisma adapter built with this source (on a stand-in PostgreSQL client). */
function listenOnly(source: string | pg.Pool) {
  const stand = {
    _activeProvider: 'postgresql',
    $connect: async () => {},
    $transaction: async () => undefined as never,
    $queryRawUnsafe: async () => [],
    $executeRawUnsafe: async () => 0,
  };
  const { listen } = prismaAdapter(stand, { listen: source });
  expect(listen).toBeTypeOf('function');
  return { listen: listen! };
}
