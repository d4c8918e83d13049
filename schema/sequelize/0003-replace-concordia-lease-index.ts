/**
 * queryInterface migration 0003 for the Concordia jobs table: the `(state, id)` index of
 * `schema/<db>/0003_state_id_index.sql` takes the place of the lease index. Run it after
 * `0002-add-concordia-unique-jobs`.
 *
 * @example
 * ```ts
 * // migrations/20261201000000-replace-concordia-lease-index.js
 * module.exports = require('concordia/schema/sequelize/0003-replace-concordia-lease-index.js');
 * ```
 *
 * @module
 */
import type { QueryInterface } from 'sequelize';
import { concordiaJobsIndexes, concordiaLeaseIndexName, concordiaStateIdIndex } from './concordia-job-model.ts';

/**
 * Adds `<table>_state_id_idx` on `(state, id)` and drops `<table>_lease_idx`. The new index comes
 * first, so the table is never without an index that leads with `state`.
 *
 * @example
 * ```ts
 * await replaceConcordiaLeaseIndex(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function replaceConcordiaLeaseIndex(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  const ix = concordiaStateIdIndex(table);
  await queryInterface.addIndex(table, ix.fields, { name: ix.name });
  await queryInterface.removeIndex(table, concordiaLeaseIndexName(table));
}

/**
 * Undoes {@link replaceConcordiaLeaseIndex}: the lease index of 0001 back, the state index gone.
 *
 * @example
 * ```ts
 * await restoreConcordiaLeaseIndex(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function restoreConcordiaLeaseIndex(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  const lease = concordiaJobsIndexes(table).find((ix) => ix.name === concordiaLeaseIndexName(table))!;
  await queryInterface.addIndex(table, lease.fields, { name: lease.name });
  await queryInterface.removeIndex(table, concordiaStateIdIndex(table).name);
}

/**
 * Migration `up`: replaces the lease index of `concordia_jobs`.
 *
 * @example
 * ```ts
 * await up(sequelize.getQueryInterface());
 * ```
 */
export async function up(queryInterface: QueryInterface): Promise<void> {
  await replaceConcordiaLeaseIndex(queryInterface);
}

/**
 * Migration `down`: puts the lease index back.
 *
 * @example
 * ```ts
 * await down(sequelize.getQueryInterface());
 * ```
 */
export async function down(queryInterface: QueryInterface): Promise<void> {
  await restoreConcordiaLeaseIndex(queryInterface);
}
