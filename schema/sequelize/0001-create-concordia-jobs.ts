/**
 * queryInterface migration for the Concordia jobs table, in the `up(queryInterface, Sequelize)`
 * shape of sequelize-cli and of Umzug's Sequelize storage. Compile it (or copy it as a `.js`
 * file) into your migrations folder.
 *
 * @example
 * ```ts
 * // migrations/20260101000000-create-concordia-jobs.js
 * module.exports = require('concordia/schema/sequelize/0001-create-concordia-jobs.js');
 * ```
 *
 * @module
 */
import type { QueryInterface } from 'sequelize';
import { concordiaDbOf, concordiaJobsAttributes, concordiaJobsIndexes, concordiaJobsTableOptions } from './concordia-job-model.ts';

/**
 * Creates the jobs table under `table` and adds its two indexes.
 *
 * @example
 * ```ts
 * await createConcordiaJobsTable(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function createConcordiaJobsTable(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  const db = concordiaDbOf(queryInterface.sequelize);
  await queryInterface.createTable(table, concordiaJobsAttributes(db), concordiaJobsTableOptions(db));
  for (const ix of concordiaJobsIndexes(table)) await queryInterface.addIndex(table, ix.fields, { name: ix.name });
}

/**
 * Drops the jobs table (its indexes go with it).
 *
 * @example
 * ```ts
 * await dropConcordiaJobsTable(sequelize.getQueryInterface(), 'app_jobs');
 * ```
 */
export async function dropConcordiaJobsTable(queryInterface: QueryInterface, table = 'concordia_jobs'): Promise<void> {
  await queryInterface.dropTable(table);
}

/**
 * Migration `up`: creates `concordia_jobs`.
 *
 * @example
 * ```ts
 * await up(sequelize.getQueryInterface());
 * ```
 */
export async function up(queryInterface: QueryInterface): Promise<void> {
  await createConcordiaJobsTable(queryInterface);
}

/**
 * Migration `down`: drops `concordia_jobs`.
 *
 * @example
 * ```ts
 * await down(sequelize.getQueryInterface());
 * ```
 */
export async function down(queryInterface: QueryInterface): Promise<void> {
  await dropConcordiaJobsTable(queryInterface);
}
