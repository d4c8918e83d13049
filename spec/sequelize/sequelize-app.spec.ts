/** Runs fixtures/sequelize-app on PostgreSQL and MariaDB: a refused order leaves no email; the placed one is mailed once. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openShop, type Email } from '../../fixtures/sequelize-app/shop.ts';
import { isReachable, MYSQL_URL, PG_URL, uniqueTable } from '../support/databases.ts';

const urls = { postgres: PG_URL, mysql: MYSQL_URL.replace(/^mysql:/, 'mariadb:') } as const;

describe('fixtures/sequelize-app', () => {
  for (const db of ['postgres', 'mysql'] as const) {
    it(`places an order and mails it once; a refused order leaves neither order nor email (${db})`, async (ctx) => {
      if (!(await isReachable(db))) return ctx.skip();
      const sent: Email[] = [];
      const shop = await openShop(urls[db], `${uniqueTable('shop')}_`, async (e) => void sent.push(e));
      try {
        const order = await shop.placeOrder('ada@example.com', 4200);
        await expect(shop.placeOrder('bob@example.com', 0)).rejects.toThrow(RangeError);
        expect((await shop.Order.findAll({ raw: true })).map((o) => (o as unknown as { email: string }).email)).toEqual(['ada@example.com']);
        const worker = await shop.startWorker();
        await worker.next('job:completed');
        expect(sent).toEqual([{ to: 'ada@example.com', subject: `Order #${order.id} confirmed` }]);
      } finally {
        await shop.close({ drop: true });
      }
    });
  }

  it('main.ts runs end to end', async (ctx) => {
    if (!(await isReachable('postgres'))) return ctx.skip();
    const { stdout } = await promisify(execFile)(process.execPath, ['fixtures/sequelize-app/main.ts', PG_URL, `${uniqueTable('shop')}_`], { timeout: 20_000 });
    expect(stdout).toContain('refused: order total must be positive');
    expect(stdout).toMatch(/order 1 saved; emails sent: \[\{"to":"ada@example.com"/);
  });
});
