/**
 * Drizzle table definition of the Concordia jobs table for SQLite (better-sqlite3).
 * `drizzle-kit generate` (or `push`) creates the same table as `schema/sqlite/0001_create_jobs.sql` to `0003_state_id_index.sql`.
 *
 * @module
 */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Builds the table under another name (for `createJobs({ table })`); index names follow it.
 * Times are INTEGER epoch milliseconds and JSON is TEXT, as in the canonical DDL.
 *
 * @example
 * ```ts
 * export const appJobs = concordiaJobsTable('app_jobs');
 * ```
 */
export function concordiaJobsTable<Name extends string>(name: Name) {
  return sqliteTable(
    name,
    {
      // AUTOINCREMENT: ids are never reused after a delete, so a stale id never names a new job.
      id: integer('id').primaryKey({ autoIncrement: true }),
      queue: text('queue').notNull().default('default'),
      kind: text('kind').notNull(),
      args: text('args').notNull(),
      state: text('state').notNull().default('available'),
      priority: integer('priority').notNull().default(0),
      attempt: integer('attempt').notNull().default(0),
      maxAttempts: integer('max_attempts').notNull().default(20),
      runAt: integer('run_at').notNull(),
      attemptedAt: integer('attempted_at'),
      finalizedAt: integer('finalized_at'),
      createdAt: integer('created_at').notNull(),
      leaseToken: text('lease_token'),
      lockedBy: text('locked_by'),
      leaseExpiresAt: integer('lease_expires_at'),
      errors: text('errors'),
      metadata: text('metadata'),
      // 0002_unique_jobs.sql: NULL for ordinary jobs (NULLs never conflict).
      uniqueKey: text('unique_key'),
      uniqueStates: integer('unique_states'),
    },
    (t) => [
      index(`${name}_claim_idx`).on(t.state, t.queue, t.priority, t.runAt, t.id),
      // 0003_state_id_index.sql: lists and counts by state (it replaced the lease index).
      index(`${name}_state_id_idx`).on(t.state, t.id),
      uniqueIndex(`${name}_unique_idx`).on(t.uniqueKey),
    ],
  );
}

/**
 * The jobs table under its default name.
 *
 * @example
 * ```ts
 * export { concordiaJobs } from 'concordia/schema/drizzle/sqlite';
 * ```
 */
export const concordiaJobs = concordiaJobsTable('concordia_jobs');
