/**
 * The Concordia jobs table as a TypeORM `EntitySchema`, so `synchronize` or a generated migration
 * creates the same table as `schema/<db>/0001_create_jobs.sql` to `0003_state_id_index.sql`. An `EntitySchema` needs neither
 * decorators nor `reflect-metadata` in your tsconfig.
 *
 * Each database gets its own column types, mirroring the canonical DDL:
 * PostgreSQL `timestamptz(3)` + `jsonb`, MariaDB `datetime(3)` + `json` with binary collation,
 * SQLite INTEGER epoch milliseconds + `text` JSON and an `integer` id (TypeORM's `bigint` +
 * increment emits `bigint … AUTOINCREMENT`, which SQLite rejects).
 *
 * @module
 */
import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';

/** The databases the entity is written for, as TypeORM names their drivers. */
export type ConcordiaTypeormDatabase = 'postgres' | 'mariadb' | 'mysql' | 'better-sqlite3';

/** A job row as TypeORM maps it. Times are `Date` on PostgreSQL/MariaDB and epoch ms on SQLite. */
export interface ConcordiaJobRecord {
  /** Bigint ids arrive as strings from pg and mysql2; SQLite's integer id arrives as a number. */
  id: string | number;
  queue: string;
  kind: string;
  args: unknown;
  state: string;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: Date | number;
  attemptedAt: Date | number | null;
  finalizedAt: Date | number | null;
  createdAt: Date | number;
  leaseToken: string | null;
  lockedBy: string | null;
  leaseExpiresAt: Date | number | null;
  errors: unknown;
  metadata: unknown;
  /** 0002: the unique key (NULL for ordinary jobs) and the bitmask of states it covers. */
  uniqueKey: string | null;
  uniqueStates: number | null;
}

/** Options of {@link concordiaJobEntity}. */
export interface ConcordiaJobEntityOptions {
  /** The database type, as in `DataSource` options `type`. */
  type: ConcordiaTypeormDatabase;
  /** Table name; the same you pass to `createJobs({ table })`. Default `concordia_jobs`. */
  table?: string;
  /** Entity name inside TypeORM's metadata. Default `ConcordiaJob`. */
  name?: string;
}

type Col = EntitySchemaColumnOptions;

/**
 * Builds the jobs entity for one database. Register it in your `DataSource` `entities`, then let
 * `synchronize: true` or `migration:generate` create the table.
 *
 * @example
 * ```ts
 * const dataSource = new DataSource({
 *   type: 'postgres',
 *   url: process.env.DATABASE_URL,
 *   entities: [Order, concordiaJobEntity({ type: 'postgres' })],
 * });
 * await dataSource.initialize();
 * await dataSource.synchronize(); // or run your generated migrations
 * ```
 */
export function concordiaJobEntity(options: ConcordiaJobEntityOptions): EntitySchema<ConcordiaJobRecord> {
  const table = options.table ?? 'concordia_jobs';
  const db = options.type === 'mysql' ? 'mariadb' : options.type;

  let id: Col;
  let text: (length: number) => Col;
  let int: Col;
  let json: Col;
  let time: Col;
  if (db === 'postgres') {
    // bigint + increment is BIGSERIAL; naming the key as PostgreSQL would keeps the catalogs equal.
    id = { type: 'bigint', primary: true, generated: 'increment', primaryKeyConstraintName: `${table}_pkey` };
    text = () => ({ type: 'text' });
    int = { type: 'integer' };
    json = { type: 'jsonb' };
    time = { type: 'timestamptz', precision: 3 };
  } else if (db === 'mariadb') {
    id = { type: 'bigint', primary: true, generated: 'increment' };
    // Binary collation: queue and kind names compare byte for byte, as in the canonical DDL.
    text = (length) => ({ type: 'varchar', length, charset: 'utf8mb4', collation: 'utf8mb4_bin' });
    int = { type: 'int' };
    json = { type: 'json' };
    // DATETIME(3) holds UTC wall time; without a precision MariaDB would drop the milliseconds.
    time = { type: 'datetime', precision: 3 };
  } else {
    id = { type: 'integer', primary: true, generated: 'increment' };
    text = () => ({ type: 'text' });
    int = { type: 'integer' };
    json = { type: 'text' };
    // Epoch milliseconds, so the dispatcher compares times as numbers.
    time = { type: 'integer' };
  }
  const nullable = (c: Col): Col => ({ ...c, nullable: true });

  return new EntitySchema<ConcordiaJobRecord>({
    name: options.name ?? 'ConcordiaJob',
    tableName: table,
    columns: {
      id,
      queue: { ...text(128), default: 'default' },
      kind: text(128),
      args: json,
      state: { ...text(16), default: 'available' },
      priority: { ...int, default: 0 },
      attempt: { ...int, default: 0 },
      maxAttempts: { ...int, name: 'max_attempts', default: 20 },
      runAt: { ...time, name: 'run_at' },
      attemptedAt: { ...nullable(time), name: 'attempted_at' },
      finalizedAt: { ...nullable(time), name: 'finalized_at' },
      createdAt: { ...time, name: 'created_at' },
      leaseToken: { ...nullable(text(36)), name: 'lease_token' },
      lockedBy: { ...nullable(text(128)), name: 'locked_by' },
      leaseExpiresAt: { ...nullable(time), name: 'lease_expires_at' },
      errors: nullable(json),
      metadata: nullable(json),
      // 0002_unique_jobs.sql. SMALLINT like the DDL; SQLite declares small integers as INTEGER.
      uniqueKey: { ...nullable(text(255)), name: 'unique_key' },
      uniqueStates: { ...nullable(db === 'better-sqlite3' ? int : { type: 'smallint' }), name: 'unique_states' },
    },
    indices: [
      // The claim reads in ORDER BY order: state, queue, priority, run_at, id.
      { name: `${table}_claim_idx`, columns: ['state', 'queue', 'priority', 'runAt', 'id'] },
      // 0003_state_id_index.sql: lists and counts by state, newest first. It replaced the lease
      // index; the rescuer reaches its few running rows through any index that leads with state.
      { name: `${table}_state_id_idx`, columns: ['state', 'id'] },
      // Unique jobs: NULL keys never conflict, so a plain unique index is enough.
      { name: `${table}_unique_idx`, columns: ['uniqueKey'], unique: true },
    ],
  });
}
