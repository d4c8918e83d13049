/**
 * queryInterface migration 0002 for the Concordia jobs table: the unique-jobs columns and index
 * of `schema/<db>/0002_unique_jobs.sql`. Run it after `0001-create-concordia-jobs`.
 *
 * @example
 * ```ts
 * // migrations/20260201000000-add-concordia-unique-jobs.js
 * module.exports = require('concordia/schema/sequelize/0002-add-concordia-unique-jobs.js');
 * ```
 *
 * @module
 */
import type { QueryInterface } from 'sequelize';
import { concordiaDbOf, concordiaUniqueJobsAttributes, concordiaUniqueJobsIndex } from './concordia-job-model.ts';

/**
 * Adds `unique_key`, `unique_states` and the unique index to the jobs table `table`.
 *
 * @example
 * ```ts
 * await addConcordiaUniqueJobs(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function addConcordiaUniqueJobs(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  const db = concordiaDbOf(queryInterface.sequelize);
  for (const [column, options] of Object.entries(concordiaUniqueJobsAttributes(db))) await queryInterface.addColumn(table, column, options);
  const ix = concordiaUniqueJobsIndex(table);
  await queryInterface.addIndex(table, ix.fields, { name: ix.name, unique: true });
}

/**
 * Removes what {@link addConcordiaUniqueJobs} added.
 *
 * @example
 * ```ts
 * await removeConcordiaUniqueJobs(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function removeConcordiaUniqueJobs(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  await queryInterface.removeIndex(table, concordiaUniqueJobsIndex(table).name);
  await queryInterface.removeColumn(table, 'unique_states');
  await queryInterface.removeColumn(table, 'unique_key');
}

/**
 * Migration `up`: adds the unique-jobs columns to `concordia_jobs`.
 *
 * @example
 * ```ts
 * await up(sequelize.getQueryInterface());
 * ```
 */
export async function up(queryInterface: QueryInterface): Promise<void> {
  await addConcordiaUniqueJobs(queryInterface);
}

/**
 * Migration `down`: removes them again.
 *
 * @example
 * ```ts
 * await down(sequelize.getQueryInterface());
 * ```
 */
export async function down(queryInterface: QueryInterface): Promise<void> {
  await removeConcordiaUniqueJobs(queryInterface);
}
