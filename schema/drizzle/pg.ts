/**
 * Drizzle table definition of the Concordia jobs table for PostgreSQL. Export it from the schema
 * file your `drizzle.config.ts` points at and `drizzle-kit generate` (or `push`) creates the same
 * table as `schema/postgres/0001_create_jobs.sql` to `0003_state_id_index.sql`.
 *
 * @module
 */
import { bigserial, index, integer, jsonb, pgTable, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

// Modes only shape values in TypeScript (the DDL is the same): bigint ids stay exact past 2^53,
// and times stay the strings the database wrote.
const time = (name: string) => timestamp(name, { precision: 3, withTimezone: true, mode: 'string' });

/**
 * Builds the table under another name (for `createJobs({ table })`); index names follow it.
 *
 * @example
 * ```ts
 * export const appJobs = concordiaJobsTable('app_jobs');
 * ```
 */
export function concordiaJobsTable<Name extends string>(name: Name) {
  return pgTable(
    name,
    {
      id: bigserial('id', { mode: 'bigint' }).primaryKey(),
      queue: text('queue').notNull().default('default'),
      kind: text('kind').notNull(),
      args: jsonb('args').notNull(),
      state: text('state').notNull().default('available'),
      priority: integer('priority').notNull().default(0),
      attempt: integer('attempt').notNull().default(0),
      maxAttempts: integer('max_attempts').notNull().default(20),
      runAt: time('run_at').notNull(),
      attemptedAt: time('attempted_at'),
      finalizedAt: time('finalized_at'),
      createdAt: time('created_at').notNull(),
      leaseToken: text('lease_token'),
      lockedBy: text('locked_by'),
      leaseExpiresAt: time('lease_expires_at'),
      errors: jsonb('errors'),
      metadata: jsonb('metadata'),
      // 0002_unique_jobs.sql: NULL for ordinary jobs (NULLs never conflict).
      uniqueKey: text('unique_key'),
      uniqueStates: smallint('unique_states'),
    },
    (t) => [
      // Claim: state = 'available' AND queue … ORDER BY priority, run_at, id.
      index(`${name}_claim_idx`).on(t.state, t.queue, t.priority, t.runAt, t.id),
      // 0003_state_id_index.sql: lists and counts by state, newest first. It replaced the lease
      // index; the rescuer reaches its few running rows through any index that leads with state.
      index(`${name}_state_id_idx`).on(t.state, t.id),
      // Unique jobs: enqueueUnique inserts with ON CONFLICT (unique_key) DO NOTHING.
      uniqueIndex(`${name}_unique_idx`).on(t.uniqueKey),
    ],
  );
}

/**
 * The jobs table under its default name.
 *
 * @example
 * ```ts
 * // drizzle/schema.ts
 * export { concordiaJobs } from 'concordia/schema/drizzle/pg';
 * ```
 */
export const concordiaJobs = concordiaJobsTable('concordia_jobs');
