/**
 * Drizzle table definition of the Concordia jobs table for MariaDB (mysql2). `drizzle-kit
 * generate` (or `push`) creates the same table as `schema/mysql/0001_create_jobs.sql` to `0003_state_id_index.sql`.
 *
 * @module
 */
import { bigint, customType, datetime, index, int, json, mysqlTable, smallint, uniqueIndex } from 'drizzle-orm/mysql-core';

/**
 * VARCHAR compared byte for byte. Drizzle has no table-level COLLATE, and the database default
 * (often utf8mb4_general_ci) would make queue and kind names case-insensitive, unlike the
 * canonical DDL and the other databases; the collation therefore rides on each column type.
 */
const binaryVarchar = customType<{ data: string; config: { length: number } }>({
  dataType: (config) => `varchar(${config?.length ?? 255}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
});

const name = (col: string, length: number) => binaryVarchar(col, { length });
// DATETIME(3) holds UTC wall time; the engine writes every time explicitly.
const time = (col: string) => datetime(col, { fsp: 3, mode: 'string' });

/**
 * Builds the table under another name (for `createJobs({ table })`); index names follow it.
 *
 * @example
 * ```ts
 * export const appJobs = concordiaJobsTable('app_jobs');
 * ```
 */
export function concordiaJobsTable<Name extends string>(tableName: Name) {
  return mysqlTable(
    tableName,
    {
      id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
      queue: name('queue', 128).notNull().default('default'),
      kind: name('kind', 128).notNull(),
      args: json('args').notNull(),
      state: name('state', 16).notNull().default('available'),
      priority: int('priority').notNull().default(0),
      attempt: int('attempt').notNull().default(0),
      maxAttempts: int('max_attempts').notNull().default(20),
      runAt: time('run_at').notNull(),
      attemptedAt: time('attempted_at'),
      finalizedAt: time('finalized_at'),
      createdAt: time('created_at').notNull(),
      leaseToken: name('lease_token', 36),
      lockedBy: name('locked_by', 128),
      leaseExpiresAt: time('lease_expires_at'),
      errors: json('errors'),
      metadata: json('metadata'),
      // 0002_unique_jobs.sql: NULL for ordinary jobs (NULLs never conflict).
      uniqueKey: name('unique_key', 255),
      uniqueStates: smallint('unique_states'),
    },
    (t) => [
      index(`${tableName}_claim_idx`).on(t.state, t.queue, t.priority, t.runAt, t.id),
      // 0003_state_id_index.sql: lists and counts by state (it replaced the lease index).
      index(`${tableName}_state_id_idx`).on(t.state, t.id),
      uniqueIndex(`${tableName}_unique_idx`).on(t.uniqueKey),
    ],
  );
}

/**
 * The jobs table under its default name.
 *
 * @example
 * ```ts
 * export { concordiaJobs } from 'concordia/schema/drizzle/mysql';
 * ```
 */
export const concordiaJobs = concordiaJobsTable('concordia_jobs');
