/**
 * Prisma-specific behaviour on the three databases, through the generated models: business
 * writes and enqueue in one interactive transaction, rollback, an expired transaction, the root
 * client passed by mistake, and the unsupported array form of $transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { NotInTransactionError } from '../../lib/errors.ts';
import { prismaAdapter } from '../../adapters/prisma/prisma-adapter.ts';
import { isReachable, type Db } from '../support/databases.ts';
import { createPrismaNamespace, openPrismaClient, type TestPrismaClient, type TestPrismaTx } from '../support/prisma-harness.ts';

const sendEmail = defineJob('send_email', { handler: async (_args: { orderId: number }) => {} });

for (const db of ['postgres', 'mysql', 'sqlite'] as const satisfies readonly Db[]) {
  describe(`prisma transactions × ${db}`, () => {
    let available = true;
    let prisma: TestPrismaClient;
    let drop: () => Promise<void> = async () => {};
    let jobs: Jobs<TestPrismaTx>;

    beforeAll(async () => {
      available = db === 'sqlite' || (await isReachable(db));
      if (!available) return;
      const ns = await createPrismaNamespace(db);
      drop = ns.drop;
      prisma = await openPrismaClient(ns.target);
      jobs = createJobs({ adapter: prismaAdapter(prisma), jobs: [sendEmail] }) as unknown as Jobs<TestPrismaTx>;
    });

    afterAll(async () => {
      await prisma?.$disconnect();
      await drop();
    });

    const test = (name: string, fn: () => Promise<void>) =>
      it(name, async (ctx) => {
        if (!available) return ctx.skip();
        await fn();
      });

    async function jobsFor(orderId: number): Promise<Record<string, unknown>[]> {
      const all = await prisma.concordiaJob.findMany({ where: { kind: 'send_email' } });
      return all.filter((j) => {
        const args: unknown = typeof j['args'] === 'string' ? JSON.parse(j['args']) : j['args'];
        return (args as { orderId?: number }).orderId === orderId;
      });
    }

    test('a model write and the enqueue commit together', async () => {
      const id = await prisma.$transaction(async (tx) => {
        const t = tx as TestPrismaTx;
        await t.order.create({ data: { id: 1, note: 'paid' } });
        return jobs.enqueue(t, sendEmail({ orderId: 1 }));
      });
      expect(await prisma.order.findUnique({ where: { id: 1 } })).toMatchObject({ note: 'paid' });
      const [job] = await jobsFor(1);
      expect(String(job?.['id'])).toBe(id);
      expect(job?.['state']).toBe('available');
    });

    test('throwing inside $transaction rolls back the order and the job', async () => {
      await expect(
        prisma.$transaction(async (tx) => {
          const t = tx as TestPrismaTx;
          await t.order.create({ data: { id: 2, note: 'never' } });
          await jobs.enqueue(t, sendEmail({ orderId: 2 }));
          throw new Error('payment declined');
        }),
      ).rejects.toThrow('payment declined');
      expect(await prisma.order.findUnique({ where: { id: 2 } })).toBeNull();
      expect(await jobsFor(2)).toEqual([]);
    });

    test('an interactive transaction past its timeout leaves no job and says why', async () => {
      const outcome = await prisma
        .$transaction(
          async (tx) => {
            const t = tx as TestPrismaTx;
            await jobs.enqueue(t, sendEmail({ orderId: 3 }));
            // Prisma's timeout is wall-clock time inside the callback: only real time can exceed it.
            await new Promise((resolve) => setTimeout(resolve, 400));
            await jobs.enqueue(t, sendEmail({ orderId: 3 }));
          },
          { timeout: 150 },
        )
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/transaction/i);
      expect((outcome as Error).message).toMatch(/expired|timeout|closed/i);
      expect(await jobsFor(3)).toEqual([]);
    });

    test('the root client is refused with a message that names the tx client', async () => {
      const err = await jobs.enqueue(prisma as never, sendEmail({ orderId: 4 })).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NotInTransactionError);
      expect((err as Error).message).toMatch(/root PrismaClient/);
      expect((err as Error).message).toMatch(/\$transaction\(async \(tx\)/);
      expect(await jobsFor(4)).toEqual([]);
    });

    test('the sequential $transaction([...]) form is unsupported: nothing is written', async () => {
      // There is no transaction client in the array form; the only handle is the root client.
      const enqueue = jobs.enqueue(prisma as never, sendEmail({ orderId: 5 }));
      await expect(enqueue).rejects.toBeInstanceOf(NotInTransactionError);
      // Prisma refuses the batch outright (it throws synchronously), so the lazy order query never runs.
      await expect((async () => prisma.$transaction([prisma.order.create({ data: { id: 5, note: 'batch' } }), enqueue]))()).rejects.toThrow(
        /Prisma Client promises/,
      );
      expect(await prisma.order.findUnique({ where: { id: 5 } })).toBeNull();
      expect(await jobsFor(5)).toEqual([]);
    });

    test('a worker runs what a Prisma transaction enqueued', async () => {
      const seen: number[] = [];
      const receipt = defineJob('receipt', { handler: async (a: { orderId: number }) => void seen.push(a.orderId) });
      const local = createJobs({ adapter: prismaAdapter(prisma), jobs: [receipt] });
      await prisma.$transaction(async (tx) => {
        await (tx as TestPrismaTx).order.create({ data: { id: 6, note: 'receipt' } });
        await local.enqueue(tx, receipt({ orderId: 6 }), { queue: 'receipts' });
      });
      const worker = local.createWorker({ queues: ['receipts'], pollIntervalMs: 20 });
      const done = worker.next('job:completed');
      await worker.start();
      await done;
      await worker.stop();
      expect(seen).toEqual([6]);
    });
  });
}
