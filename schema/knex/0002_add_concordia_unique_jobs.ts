/**
 * Knex migration 0002 for the Concordia jobs table: the unique-jobs columns and index of
 * `schema/<db>/0002_unique_jobs.sql`. Copy it next to 0001 in your migrations directory.
 *
 * @example
 * ```ts
 * await knex.migrate.latest({ directory: 'node_modules/concordia/schema/knex' });
 * ```
 *
 * @module
 */
import type { Knex } from 'knex';

function dialectOf(knex: Knex): 'postgres' | 'mysql' | 'sqlite' {
  const name = String((knex.client as { dialect?: unknown }).dialect ?? '');
  if (name === 'postgresql' || name === 'postgres') return 'postgres';
  if (name === 'mysql' || name === 'mysql2') return 'mysql';
  if (name === 'sqlite3' || name === 'better-sqlite3') return 'sqlite';
  throw new Error(`concordia migration: unsupported Knex client dialect "${name}".`);
}

/**
 * Adds `unique_key`, `unique_states` and the unique index `<table>_unique_idx`.
 *
 * @example
 * ```ts
 * await addConcordiaUniqueJobs(knex, 'app_jobs');
 * ```
 */
export async function addConcordiaUniqueJobs(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  const d = dialectOf(knex);
  await knex.schema.alterTable(table, (t) => {
    // On MariaDB the column takes the table's utf8mb4_bin collation, as in the canonical DDL.
    if (d === 'mysql') t.string('unique_key', 255).nullable();
    else t.text('unique_key').nullable();
    // SQLite declares small integers as INTEGER (the canonical SQLite DDL does the same).
    if (d === 'sqlite') t.integer('unique_states').nullable();
    else t.smallint('unique_states').nullable();
  });
  // A unique index, not a constraint: NULL keys never conflict, and ON CONFLICT (unique_key) can name it.
  await knex.schema.alterTable(table, (t) => {
    t.unique(['unique_key'], { indexName: `${table}_unique_idx`, useConstraint: false });
  });
}

/**
 * Removes what {@link addConcordiaUniqueJobs} added.
 *
 * @example
 * ```ts
 * await removeConcordiaUniqueJobs(knex, 'app_jobs');
 * ```
 */
export async function removeConcordiaUniqueJobs(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  await knex.schema.alterTable(table, (t) => t.dropUnique(['unique_key'], `${table}_unique_idx`));
  await knex.schema.alterTable(table, (t) => t.dropColumns('unique_key', 'unique_states'));
}

/**
 * Migration `up`.
 *
 * @example
 * ```ts
 * await up(knex);
 * ```
 */
export async function up(knex: Knex): Promise<void> {
  await addConcordiaUniqueJobs(knex);
}

/**
 * Migration `down`.
 *
 * @example
 * ```ts
 * await down(knex);
 * ```
 */
export async function down(knex: Knex): Promise<void> {
  await removeConcordiaUniqueJobs(knex);
}
