/**
 * Knex migration 0003 for the Concordia jobs table: the `(state, id)` index of
 * `schema/<db>/0003_state_id_index.sql` takes the place of the lease index. Copy it next to 0002
 * in your migrations directory.
 *
 * @example
 * ```ts
 * // migrations/0003_concordia_state_id_index.ts
 * export { up, down } from 'concordia/schema/knex/0003_replace_concordia_lease_index';
 * ```
 *
 * @module
 */
import type { Knex } from 'knex';

/**
 * Adds `<table>_state_id_idx` on `(state, id)` (lists and counts by state) and drops
 * `<table>_lease_idx`. The new index comes first, so the table is never without an index that
 * leads with `state`: the rescuer reaches its few running rows through either.
 *
 * @example
 * ```ts
 * await replaceConcordiaLeaseIndex(knex, 'app_jobs');
 * ```
 */
export async function replaceConcordiaLeaseIndex(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  await knex.schema.alterTable(table, (t) => t.index(['state', 'id'], `${table}_state_id_idx`));
  await knex.schema.alterTable(table, (t) => t.dropIndex(['state', 'lease_expires_at'], `${table}_lease_idx`));
}

/**
 * Undoes {@link replaceConcordiaLeaseIndex}: the lease index of 0001 back, the state index gone.
 *
 * @example
 * ```ts
 * await restoreConcordiaLeaseIndex(knex, 'app_jobs');
 * ```
 */
export async function restoreConcordiaLeaseIndex(knex: Knex, table = 'concordia_jobs'): Promise<void> {
  await knex.schema.alterTable(table, (t) => t.index(['state', 'lease_expires_at'], `${table}_lease_idx`));
  await knex.schema.alterTable(table, (t) => t.dropIndex(['state', 'id'], `${table}_state_id_idx`));
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
  await replaceConcordiaLeaseIndex(knex);
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
  await restoreConcordiaLeaseIndex(knex);
}
