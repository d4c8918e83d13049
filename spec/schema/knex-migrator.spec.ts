/**
 * schema/knex/0001_create_concordia_jobs.ts, 0002_add_concordia_unique_jobs.ts and 0003_replace_concordia_lease_index.ts run by Knex's own migrator (not just imported): it
 * creates `concordia_jobs` on a fresh SQLite file, Concordia works on it, and `down` drops it.
 */
import knexFactory from 'knex';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { knexAdapter } from '../../adapters/knex/knex-adapter.ts';
import { createJobs, defineJob } from '../../lib/index.ts';
import { tempSqlitePath } from '../support/databases.ts';

describe('knex migration through knex.migrate', () => {
  it('latest creates a working jobs table; rollback drops it', async () => {
    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: tempSqlitePath() }, useNullAsDefault: true });
    const directory = fileURLToPath(new URL('../../schema/knex/', import.meta.url));
    try {
      const [, applied] = (await knex.migrate.latest({ directory, loadExtensions: ['.ts'] })) as [number, string[]];
      expect(applied).toEqual(['0001_create_concordia_jobs.ts', '0002_add_concordia_unique_jobs.ts', '0003_replace_concordia_lease_index.ts']);
      const ping = defineJob('ping', { handler: async () => {} });
      const jobs = createJobs({ adapter: knexAdapter(knex), jobs: [ping] });
      const id = await knex.transaction((trx) => jobs.enqueue(trx, ping({})));
      await jobs.verify();
      expect(await knex('concordia_jobs').where({ id }).first('state')).toEqual({ state: 'available' });
      await knex.migrate.rollback({ directory, loadExtensions: ['.ts'] });
      expect(await knex.schema.hasTable('concordia_jobs')).toBe(false);
    } finally {
      await knex.destroy();
    }
  });
});
