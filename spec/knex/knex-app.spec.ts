/** Runs fixtures/knex-app: the refused order leaves no email job; the placed one is mailed once. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openShop, type Email } from '../../fixtures/knex-app/shop.ts';
import { tempSqlitePath } from '../support/databases.ts';

describe('fixtures/knex-app', () => {
  it('places an order and mails it once; a refused order leaves neither order nor email', async () => {
    const sent: Email[] = [];
    const shop = await openShop(tempSqlitePath(), async (e) => void sent.push(e));
    try {
      const order = await shop.placeOrder('ada@example.com', 4200);
      await expect(shop.placeOrder('bob@example.com', 0)).rejects.toThrow(RangeError);
      expect((await shop.knex('orders').select('email')).map((o: { email: string }) => o.email)).toEqual(['ada@example.com']);
      expect(await shop.knex('concordia_jobs').count({ n: '*' })).toEqual([{ n: 1 }]);
      const worker = await shop.startWorker();
      await worker.next('job:completed');
      expect(sent).toEqual([{ to: 'ada@example.com', subject: `Order #${order.id} confirmed` }]);
    } finally {
      await shop.close();
    }
  });

  it('main.ts runs end to end', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['fixtures/knex-app/main.ts', tempSqlitePath()], { timeout: 20_000 });
    expect(stdout).toContain('refused: order total must be positive');
    expect(stdout).toMatch(/order 1 saved; emails sent: \[\{"to":"ada@example.com"/);
  });
});
