/** Runs the MikroORM sample app (fixtures/mikro-orm-app) on SQLite. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openShop, OrderSchema, type Email } from '../../fixtures/mikro-orm-app/shop.ts';
import { tempSqlitePath } from '../support/databases.ts';

describe('fixtures/mikro-orm-app', () => {
  it('an order and its email commit together; a refused order sends nothing', async () => {
    const sent: Email[] = [];
    const shop = await openShop(tempSqlitePath(), async (email) => void sent.push(email));
    try {
      const order = await shop.placeOrder('ada@example.com', 4200);
      await expect(shop.placeOrder('bob@example.com', 0)).rejects.toThrow(RangeError);
      expect((await shop.orm.em.fork().find(OrderSchema, {})).map((o) => o.email)).toEqual(['ada@example.com']);
      const worker = await shop.startWorker();
      await worker.next('job:completed');
      expect(sent).toEqual([{ to: 'ada@example.com', subject: `Order #${order.id} confirmed` }]);
    } finally {
      await shop.close();
    }
  });

  it('main.ts runs end to end as a script', () => {
    const out = execFileSync(process.execPath, ['fixtures/mikro-orm-app/main.ts', tempSqlitePath()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('refused: order total must be positive (got 0)');
    expect(out).toContain('emails sent: [{"to":"ada@example.com","subject":"Order #1 confirmed"}]');
  });
});
