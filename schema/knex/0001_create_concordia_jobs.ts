/**
 * Knex migration for the Concordia jobs table: drop it into your migrations folder (Knex runs
 * `.ts` migrations under a TypeScript loader; compile it to `.js` otherwise). It creates the same
 * table as `schema/<db>/0001_create_jobs.sql` on pg, mysql2 (MariaDB) and better-sqlite3; a drift
 * spec compares the two through the database catalog.
 *
 * @example
 * ```ts
 * await knex.migrate.latest({ directory: './migrations' });
 * ```
 *
 * @module
 */
import type { Knex } from 'knex';

type Db = 'postgres' | 'mysql' | 'sqlite';

function dialectOf(knex: Knex): Db {
  const name = String((knex.client as { dialect?: unknown }).dialect ?? '');
  if (name === 'postgresql' || name === 'postgres') return 'postgres';
  if (name === 'mysql' || name === 'mysql2') return 'mysql';
  if (name === 'sqlite3' || name === 'better-sqlite3') return 'sqlite';
  throw new Error(`concordia migration: unsupported Knex client dialect "${name}".`);
}

/**
 * Creates the jobs table (with its two indexes) under `table`, for an application that renamed
 * it with `createJobs({ table })`.
 *
 * @example
 * ```ts
 * export const up = (knex: Knex) => createConcordiaJobsTable(knex, 'app_jobs');
 * ```
 */
export async function createConcordiaJobsTable(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  const d = dialectOf(knex);
  if (await knex.schema.hasTable(table)) return;
  await knex.schema.createTable(table, (t) => {
    // Knex's increments() are UNSIGNED on MySQL; the canonical id is a signed BIGINT.
    if (d === 'postgres') t.bigIncrements('id');
    else if (d === 'mysql') t.specificType('id', 'bigint NOT NULL AUTO_INCREMENT').primary();
    else t.increments('id');
    const name = (col: string, length: number) => (d === 'mysql' ? t.string(col, length) : t.text(col));
    // PostgreSQL timestamptz(3), MariaDB DATETIME(3) holding UTC, SQLite epoch milliseconds.
    const time = (col: string) =>
      d === 'postgres' ? t.timestamp(col, { useTz: true, precision: 3 }) : d === 'mysql' ? t.datetime(col, { precision: 3 }) : t.integer(col);
    const json = (col: string) => (d === 'postgres' ? t.jsonb(col) : d === 'mysql' ? t.json(col) : t.text(col));
    name('queue', 128).notNullable().defaultTo('default');
    name('kind', 128).notNullable();
    json('args').notNullable();
    name('state', 16).notNullable().defaultTo('available');
    // Raw numeric defaults: Knex quotes them on SQLite (DEFAULT '0'), which is not the canonical DDL.
    t.integer('priority').notNullable().defaultTo(knex.raw('0'));
    t.integer('attempt').notNullable().defaultTo(knex.raw('0'));
    t.integer('max_attempts').notNullable().defaultTo(knex.raw('20'));
    time('run_at').notNullable();
    time('attempted_at').nullable();
    time('finalized_at').nullable();
    time('created_at').notNullable();
    name('lease_token', 36).nullable();
    name('locked_by', 128).nullable();
    time('lease_expires_at').nullable();
    json('errors').nullable();
    json('metadata').nullable();
    // Claim: state = 'available' AND queue … ORDER BY priority, run_at, id. Rescuer: running + expired lease.
    t.index(['state', 'queue', 'priority', 'run_at', 'id'], `${table}_claim_idx`);
    t.index(['state', 'lease_expires_at'], `${table}_lease_idx`);
    if (d === 'mysql') {
      // Byte-wise comparison of queue and kind names, as on the other databases.
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
  });
}

/**
 * Drops the jobs table.
 *
 * @example
 * ```ts
 * export const down = (knex: Knex) => dropConcordiaJobsTable(knex, 'app_jobs');
 * ```
 */
export async function dropConcordiaJobsTable(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  await knex.schema.dropTableIfExists(table);
}

/**
 * Knex migration `up`: creates `concordia_jobs`.
 *
 * @example
 * ```ts
 * await knex.migrate.up();
 * ```
 */
export async function up(knex: Knex): Promise<void> {
  await createConcordiaJobsTable(knex);
}

/**
 * Knex migration `down`: drops `concordia_jobs`.
 *
 * @example
 * ```ts
 * await knex.migrate.down();
 * ```
 */
export async function down(knex: Knex): Promise<void> {
  await dropConcordiaJobsTable(knex);
}
