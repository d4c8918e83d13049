/**
 * The Concordia jobs table as a MikroORM `EntitySchema`, so the SchemaGenerator (or a migration
 * it generates) creates the same table as `schema/<db>/0001_create_jobs.sql` to `0003_state_id_index.sql`.
 *
 * Column types are spelled out per database because MikroORM's defaults differ from the
 * canonical DDL: a plain `Date` is whole-second `datetime` on MariaDB (no milliseconds), a
 * `bigint` key is `unsigned` there, and strings become `varchar(255)`.
 *
 * @module
 */
import { EntitySchema } from '@mikro-orm/core';

/** The databases the entity is written for. */
export type ConcordiaMikroDatabase = 'postgresql' | 'mariadb' | 'sqlite';

/** A job row as MikroORM maps it. Times are `Date` on PostgreSQL/MariaDB and epoch ms on SQLite. */
export interface ConcordiaMikroJob {
  id: string;
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

/** Options of {@link concordiaJobSchema}. */
export interface ConcordiaJobSchemaOptions {
  /** Which database the schema is for (the MikroORM driver package). */
  database: ConcordiaMikroDatabase;
  /** Table name; the same you pass to `createJobs({ table })`. Default `concordia_jobs`. */
  table?: string;
  /** Entity name in MikroORM's metadata. Default `ConcordiaJob`. */
  name?: string;
}

/** The subset of MikroORM property options this schema uses. */
interface Prop {
  type: string;
  columnType?: string;
  fieldName?: string;
  nullable?: boolean;
  default?: string | number;
  length?: number;
  collation?: string;
  primary?: boolean;
  autoincrement?: boolean;
  unsigned?: boolean;
}

type Meta = ConstructorParameters<typeof EntitySchema<ConcordiaMikroJob>>[0];

/**
 * Builds the jobs entity schema for one database. Add it to `entities` and create the table with
 * `orm.schema.update()` / `orm.schema.create()` or a generated migration.
 *
 * @example
 * ```ts
 * const orm = await MikroORM.init({
 *   dbName: 'app.db',
 *   entities: [Order, concordiaJobSchema({ database: 'sqlite' })],
 * });
 * await orm.schema.update();
 * ```
 */
export function concordiaJobSchema(options: ConcordiaJobSchemaOptions) {
  const table = options.table ?? 'concordia_jobs';
  const db = options.database;
  const pg = db === 'postgresql';
  const my = db === 'mariadb';

  const field = (name: string | undefined): Partial<Prop> => (name ? { fieldName: name } : {});
  // Binary collation on MariaDB: queue and kind names compare byte for byte, as in our DDL.
  const text = (length: number, extra: Partial<Prop> = {}): Prop =>
    my
      ? { type: 'string', columnType: `varchar(${length})`, collation: 'utf8mb4_bin', ...extra }
      : { type: 'string', columnType: 'text', ...extra };
  const int = (dflt: number, name?: string): Prop => ({ type: 'integer', columnType: my ? 'int' : 'integer', default: dflt, ...field(name) });
  const json = (nullable: boolean): Prop => ({ type: 'json', columnType: pg ? 'jsonb' : my ? 'json' : 'text', nullable });
  // Millisecond precision everywhere; SQLite keeps INTEGER epoch ms so times compare as numbers.
  const time = (name: string, nullable: boolean): Prop =>
    db === 'sqlite'
      ? { type: 'integer', columnType: 'integer', fieldName: name, nullable }
      : { type: 'datetime', columnType: pg ? 'timestamptz(3)' : 'datetime(3)', length: 3, fieldName: name, nullable };

  const properties: Record<keyof ConcordiaMikroJob, Prop> = {
    // Signed bigint like the DDL (MikroORM would make it unsigned on MariaDB); on SQLite only an
    // INTEGER PRIMARY KEY may AUTOINCREMENT.
    id: {
      type: 'bigint',
      primary: true,
      autoincrement: true,
      columnType: pg ? 'bigint' : my ? 'bigint' : 'integer',
      unsigned: false,
    },
    queue: text(128, { default: 'default' }),
    kind: text(128),
    args: json(false),
    state: text(16, { default: 'available' }),
    priority: int(0),
    attempt: int(0),
    maxAttempts: int(20, 'max_attempts'),
    runAt: time('run_at', false),
    attemptedAt: time('attempted_at', true),
    finalizedAt: time('finalized_at', true),
    createdAt: time('created_at', false),
    leaseToken: text(36, { fieldName: 'lease_token', nullable: true }),
    lockedBy: text(128, { fieldName: 'locked_by', nullable: true }),
    leaseExpiresAt: time('lease_expires_at', true),
    errors: json(true),
    metadata: json(true),
    // 0002_unique_jobs.sql. SMALLINT like the DDL; SQLite declares small integers as INTEGER.
    uniqueKey: text(255, { fieldName: 'unique_key', nullable: true }),
    uniqueStates: { type: 'integer', columnType: db === 'sqlite' ? 'integer' : 'smallint', fieldName: 'unique_states', nullable: true },
  };

  const meta = {
    name: options.name ?? 'ConcordiaJob',
    tableName: table,
    properties,
    indexes: [
      // The claim reads in ORDER BY order: state, queue, priority, run_at, id.
      { name: `${table}_claim_idx`, properties: ['state', 'queue', 'priority', 'runAt', 'id'] },
      // 0003_state_id_index.sql: lists and counts by state, newest first. It replaced the lease
      // index; the rescuer reaches its few running rows through any index that leads with state.
      { name: `${table}_state_id_idx`, properties: ['state', 'id'] },
    ],
    // Unique jobs: NULL keys never conflict, so a plain unique index is enough.
    uniques: [{ name: `${table}_unique_idx`, properties: ['uniqueKey'] }],
  };
  // MikroORM types each property by the entity field's TS type (and a union over every relation
  // kind); options chosen per database at run time cannot follow that, hence the one cast.
  return new EntitySchema<ConcordiaMikroJob>(meta as unknown as Meta);
}

/** The EntitySchema {@link concordiaJobSchema} returns. */
export type ConcordiaJobEntitySchema = ReturnType<typeof concordiaJobSchema>;
