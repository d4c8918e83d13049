/**
 * Kysely migration 0003 for the Concordia jobs table: the `(state, id)` index of
 * `schema/<db>/0003_state_id_index.sql` takes the place of the lease index. Register it after
 * `0002-add-concordia-unique-jobs`.
 *
 * @example
 * ```ts
 * const migrator = new Migrator({ db, provider: { getMigrations: async () => ({
 *   '0001-create-concordia-jobs': await import('concordia/schema/kysely/0001-create-concordia-jobs.js'),
 *   '0002-add-concordia-unique-jobs': await import('concordia/schema/kysely/0002-add-concordia-unique-jobs.js'),
 *   '0003-replace-concordia-lease-index': await import('concordia/schema/kysely/0003-replace-concordia-lease-index.js'),
 * }) } });
 * ```
 *
 * @module
 */
import type { Kysely } from 'kysely';

/** Whether `db` talks to MariaDB, whose DROP INDEX names the table. */
function isMysql(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name.startsWith('Mysql');
}

/** DROP INDEX `name` (IF EXISTS, like the canonical DDL), with the table where MariaDB needs it. */
async function dropIndex(db: Kysely<unknown>, table: string, name: string): Promise<void> {
  const drop = db.schema.dropIndex(name).ifExists();
  await (isMysql(db) ? drop.on(table) : drop).execute();
}

/**
 * Adds `<table>_state_id_idx` on `(state, id)` (lists and counts by state) and drops
 * `<table>_lease_idx`. The new index comes first, so the table is never without an index that
 * leads with `state`: the rescuer reaches its few running rows through either.
 *
 * @example
 * ```ts
 * await replaceConcordiaLeaseIndex(db, 'app_jobs');
 * ```
 */
export async function replaceConcordiaLeaseIndex(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  await db.schema.createIndex(`${table}_state_id_idx`).ifNotExists().on(table).columns(['state', 'id']).execute();
  await dropIndex(db, table, `${table}_lease_idx`);
}

/**
 * Undoes {@link replaceConcordiaLeaseIndex}: the lease index of 0001 back, the state index gone.
 *
 * @example
 * ```ts
 * await restoreConcordiaLeaseIndex(db, 'app_jobs');
 * ```
 */
export async function restoreConcordiaLeaseIndex(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  await db.schema.createIndex(`${table}_lease_idx`).ifNotExists().on(table).columns(['state', 'lease_expires_at']).execute();
  await dropIndex(db, table, `${table}_state_id_idx`);
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
  await replaceConcordiaLeaseIndex(db);
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
  await restoreConcordiaLeaseIndex(db);
}
