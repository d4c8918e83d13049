/**
 * Kysely migration for the Concordia jobs table. Drop it into the folder your `Migrator`'s
 * `FileMigrationProvider` reads; it creates the same table as `schema/<db>/0001_create_jobs.sql`
 * on PostgreSQL, MariaDB and SQLite (a drift spec compares the two through the catalog).
 *
 * @example
 * ```ts
 * import { Migrator, FileMigrationProvider } from 'kysely';
 * const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
 * await migrator.migrateToLatest();
 * ```
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';

type Db = 'postgres' | 'mysql' | 'sqlite';

/** Which database `db` talks to, from its query adapter's class name. */
function dialectOf(db: Kysely<unknown>): Db {
  const name = db.getExecutor().adapter.constructor.name;
  if (name.startsWith('Postgres')) return 'postgres';
  if (name.startsWith('Mysql')) return 'mysql';
  if (name.startsWith('Sqlite')) return 'sqlite';
  throw new Error(`concordia migration: unsupported Kysely adapter ${name}`);
}

/**
 * Creates the jobs table (and its two indexes) under `table`. Exported so an application that
 * renamed the table (`createJobs({ table })`) can call it from its own migration.
 *
 * @example
 * ```ts
 * export const up = (db: Kysely<any>) => createConcordiaJobsTable(db, 'app_jobs');
 * ```
 */
export async function createConcordiaJobsTable(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  const d = dialectOf(db);
  // The per-database types mirror the canonical DDL: PostgreSQL timestamptz(3)/jsonb, MariaDB
  // DATETIME(3) holding UTC and JSON, SQLite epoch-millisecond integers and JSON text.
  const time = d === 'postgres' ? sql`timestamptz(3)` : d === 'mysql' ? sql`datetime(3)` : sql`integer`;
  const json = d === 'postgres' ? sql`jsonb` : d === 'mysql' ? sql`json` : sql`text`;
  const name = (len: number) => (d === 'mysql' ? sql.raw(`varchar(${len})`) : sql`text`);
  const int = d === 'mysql' ? sql`int` : sql`integer`;

  let create = db.schema.createTable(table).ifNotExists();
  create =
    d === 'postgres'
      ? create.addColumn('id', 'bigserial', (c) => c.primaryKey())
      : d === 'mysql'
        ? create.addColumn('id', 'bigint', (c) => c.notNull().autoIncrement().primaryKey())
        : create.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  create = create
    .addColumn('queue', name(128), (c) => c.notNull().defaultTo('default'))
    .addColumn('kind', name(128), (c) => c.notNull())
    .addColumn('args', json, (c) => c.notNull())
    .addColumn('state', name(16), (c) => c.notNull().defaultTo('available'))
    .addColumn('priority', int, (c) => c.notNull().defaultTo(0))
    .addColumn('attempt', int, (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', int, (c) => c.notNull().defaultTo(20))
    .addColumn('run_at', time, (c) => c.notNull())
    .addColumn('attempted_at', time)
    .addColumn('finalized_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('lease_token', name(36))
    .addColumn('locked_by', name(128))
    .addColumn('lease_expires_at', time)
    .addColumn('errors', json)
    .addColumn('metadata', json);
  // utf8mb4_bin: queue and kind names compare byte for byte, as on the other databases.
  if (d === 'mysql') create = create.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  await create.execute();

  // IF NOT EXISTS on both (PostgreSQL, MariaDB and SQLite all accept it), so a re-run is a no-op
  // like the canonical DDL. Claim path: state = 'available' AND queue … ORDER BY priority, run_at, id.
  const claim = db.schema.createIndex(`${table}_claim_idx`).ifNotExists().on(table).columns(['state', 'queue', 'priority', 'run_at', 'id']);
  // Rescuer: state = 'running' AND lease_expires_at < now.
  const lease = db.schema.createIndex(`${table}_lease_idx`).ifNotExists().on(table).columns(['state', 'lease_expires_at']);
  await claim.execute();
  await lease.execute();
}

/**
 * Drops the jobs table (its indexes go with it).
 *
 * @example
 * ```ts
 * export const down = (db: Kysely<any>) => dropConcordiaJobsTable(db, 'app_jobs');
 * ```
 */
export async function dropConcordiaJobsTable(db: Kysely<unknown>, table = 'concordia_jobs'): Promise<void> {
  await db.schema.dropTable(table).ifExists().execute();
}

/**
 * Kysely migration `up`: creates `concordia_jobs`.
 *
 * @example
 * ```ts
 * // migrations/0001-create-concordia-jobs.ts re-exports it: export { up, down } from 'concordia/schema/kysely/…';
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take an untyped database.
export async function up(db: Kysely<any>): Promise<void> {
  await createConcordiaJobsTable(db);
}

/**
 * Kysely migration `down`: drops `concordia_jobs`.
 *
 * @example
 * ```ts
 * await migrator.migrateDown();
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take an untyped database.
export async function down(db: Kysely<any>): Promise<void> {
  await dropConcordiaJobsTable(db);
}
