/**
 * Kysely migration 0002 for the Concordia jobs table: the unique-jobs columns and index of
 * `schema/<db>/0002_unique_jobs.sql`. Register it after `0001-create-concordia-jobs`.
 *
 * @example
 * ```ts
 * const migrator = new Migrator({ db, provider: { getMigrations: async () => ({
 *   '0001-create-concordia-jobs': await import('concordia/schema/kysely/0001-create-concordia-jobs.js'),
 *   '0002-add-concordia-unique-jobs': await import('concordia/schema/kysely/0002-add-concordia-unique-jobs.js'),
 * }) } });
 * ```
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';

function dialectOf(db: Kysely<unknown>): 'postgres' | 'mysql' | 'sqlite' {
  const name = db.getExecutor().adapter.constructor.name;
  if (name.startsWith('Postgres')) return 'postgres';
  if (name.startsWith('Mysql')) return 'mysql';
  if (name.startsWith('Sqlite')) return 'sqlite';
  throw new Error(`concordia migration: unsupported Kysely adapter ${name}`);
}

/**
 * Adds `unique_key`, `unique_states` and the unique index `<table>_unique_idx`.
 *
 * @example
 * ```ts
 * await addConcordiaUniqueJobs(db, 'app_jobs');
 * ```
 */
export async function addConcordiaUniqueJobs(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  const d = dialectOf(db);
  // MariaDB: the column takes the table's utf8mb4_bin collation, as in the canonical DDL.
  const key = d === 'mysql' ? sql`varchar(255)` : sql`text`;
  const states = d === 'sqlite' ? sql`integer` : sql`smallint`;
  // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
  await db.schema.alterTable(table).addColumn('unique_key', key).execute();
  await db.schema.alterTable(table).addColumn('unique_states', states).execute();
  // NULL keys never conflict, so a plain unique index is all INSERT … ON CONFLICT (unique_key) needs.
  await db.schema.createIndex(`${table}_unique_idx`).ifNotExists().unique().on(table).column('unique_key').execute();
}

/**
 * Removes what {@link addConcordiaUniqueJobs} added.
 *
 * @example
 * ```ts
 * await removeConcordiaUniqueJobs(db, 'app_jobs');
 * ```
 */
export async function removeConcordiaUniqueJobs(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  const d = dialectOf(db);
  const drop = db.schema.dropIndex(`${table}_unique_idx`);
  await (d === 'mysql' ? drop.on(table) : drop).execute();
  await db.schema.alterTable(table).dropColumn('unique_states').execute();
  await db.schema.alterTable(table).dropColumn('unique_key').execute();
}

/**
 * Migration `up`.
 *
 * @example
 * ```ts
 * await up(db);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take an untyped database.
export async function up(db: Kysely<any>): Promise<void> {
  await addConcordiaUniqueJobs(db);
}

/**
 * Migration `down`.
 *
 * @example
 * ```ts
 * await down(db);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take an untyped database.
export async function down(db: Kysely<any>): Promise<void> {
  await removeConcordiaUniqueJobs(db);
}
