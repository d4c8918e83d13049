import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createJobs, defineJob } from '../../lib/index.ts';
import { betterSqlite3Harness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('better-sqlite3 × sqlite', 'sqlite', betterSqlite3Harness);
// The tens-of-MiB volume cases run once per database, through the raw driver above.
inputClassTests('knex × sqlite', 'sqlite', () => knexHarness('sqlite'), { volume: false });

describe('hostile input: better-sqlite3 synchronous enqueue', () => {
  it('an enqueueManySync whose later statement fails leaves none of its rows inside db.transaction()', async () => {
    const h = await betterSqlite3Harness();
    try {
      const db = h.notInTransaction() as Database.Database;
      db.exec(`CREATE TRIGGER ${h.table}_poison BEFORE INSERT ON ${h.table} WHEN NEW.queue = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
      const item = defineJob('sync_item', { handler: () => undefined });
      const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [item] });
      const batch = [...Array.from({ length: 1500 }, (_, i) => item({ i }, { queue: 'atomic' })), item({}, { queue: 'poison' })];
      let caught: unknown;
      db.transaction(() => {
        h.insertOrder(db, 1);
        try {
          jobs.enqueueManySync(db, batch);
        } catch (error) {
          caught = error;
        }
        jobs.enqueueManySync(db, [item({}, { queue: 'after' }), item({}, { queue: 'after' })]);
        // Several statements, all fine: the savepoint is released and the rows stay.
        jobs.enqueueManySync(db, Array.from({ length: 1001 }, (_, i) => item({ i }, { queue: 'many' })));
      })();
      expect(caught).toBeDefined();
      const rows = await h.rows();
      expect(rows.filter((r) => r.queue === 'atomic' || r.queue === 'poison')).toEqual([]);
      expect(rows.filter((r) => r.queue === 'after')).toHaveLength(2);
      expect(rows.filter((r) => r.queue === 'many')).toHaveLength(1001);
      expect(await h.orderIds()).toEqual([1]);
    } finally {
      await h.close();
    }
  });
});
