/**
 * Sequelize 6 definition of the Concordia jobs table: the column attributes (shared by the model
 * and by the queryInterface migration in this folder) and a model for `sequelize.sync()`.
 * Both produce the same table as the numbered migrations of `schema/<db>/` (0001, 0002, 0003);
 * a drift spec compares them through the database catalog.
 *
 * @module
 */
import { DataTypes, type ModelAttributeColumnOptions, type ModelStatic, type Model, type Sequelize } from 'sequelize';

/** The databases the definitions cover (`mysql` serves both the mysql and mariadb dialects). */
export type ConcordiaSequelizeDb = 'postgres' | 'mysql' | 'sqlite';

/** Maps `sequelize.getDialect()` to the database family. */
export function concordiaDbOf(sequelize: Sequelize): ConcordiaSequelizeDb {
  const d = sequelize.getDialect();
  if (d === 'postgres') return 'postgres';
  if (d === 'mysql' || d === 'mariadb') return 'mysql';
  if (d === 'sqlite') return 'sqlite';
  throw new Error(`Concordia has no jobs table definition for the Sequelize dialect "${d}".`);
}

/**
 * The column attributes of the jobs table for `db`.
 *
 * @example
 * ```ts
 * await queryInterface.createTable('concordia_jobs', concordiaJobsAttributes('postgres'));
 * ```
 */
export function concordiaJobsAttributes(db: ConcordiaSequelizeDb): Record<string, ModelAttributeColumnOptions> {
  // Sequelize's DATE ignores a precision on PostgreSQL (it always writes TIMESTAMP WITH TIME
  // ZONE, i.e. microseconds), so the exact type is spelled out there.
  const time = db === 'postgres' ? 'TIMESTAMPTZ(3)' : db === 'mysql' ? DataTypes.DATE(3) : DataTypes.INTEGER;
  const json = db === 'postgres' ? DataTypes.JSONB : db === 'mysql' ? DataTypes.JSON : DataTypes.TEXT;
  const name = (length: number) => (db === 'mysql' ? DataTypes.STRING(length) : DataTypes.TEXT);
  const id: ModelAttributeColumnOptions =
    db === 'sqlite'
      ? { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }
      : { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false };
  return {
    id,
    queue: { type: name(128), allowNull: false, defaultValue: 'default' },
    kind: { type: name(128), allowNull: false },
    args: { type: json, allowNull: false },
    state: { type: name(16), allowNull: false, defaultValue: 'available' },
    priority: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    attempt: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    max_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 20 },
    run_at: { type: time, allowNull: false },
    attempted_at: { type: time, allowNull: true },
    finalized_at: { type: time, allowNull: true },
    created_at: { type: time, allowNull: false },
    lease_token: { type: name(36), allowNull: true },
    locked_by: { type: name(128), allowNull: true },
    lease_expires_at: { type: time, allowNull: true },
    errors: { type: json, allowNull: true },
    metadata: { type: json, allowNull: true },
  };
}

/**
 * The two indexes migration 0001 creates: the claim path (state = 'available' AND queue … ORDER
 * BY priority, run_at, id) and the lease index (state, lease_expires_at), which migration 0003
 * replaces with {@link concordiaStateIdIndex}. Kept as 0001 wrote them, because a migration that
 * has run must not change; {@link concordiaJobsCurrentIndexes} is the table's set today.
 *
 * @example
 * ```ts
 * for (const ix of concordiaJobsIndexes('app_jobs')) await queryInterface.addIndex('app_jobs', ix.fields, { name: ix.name });
 * ```
 */
export function concordiaJobsIndexes(table: string): { name: string; fields: string[] }[] {
  return [
    { name: `${table}_claim_idx`, fields: ['state', 'queue', 'priority', 'run_at', 'id'] },
    { name: `${table}_lease_idx`, fields: ['state', 'lease_expires_at'] },
  ];
}

/**
 * The columns `0002-add-concordia-unique-jobs.ts` adds (schema/<db>/0002_unique_jobs.sql):
 * `unique_key` (NULL for ordinary jobs) and `unique_states` (a bitmask of the states it covers).
 *
 * @example
 * ```ts
 * await queryInterface.addColumn('concordia_jobs', 'unique_key', concordiaUniqueJobsAttributes('postgres').unique_key!);
 * ```
 */
export function concordiaUniqueJobsAttributes(db: ConcordiaSequelizeDb): Record<string, ModelAttributeColumnOptions> {
  return {
    unique_key: { type: db === 'mysql' ? DataTypes.STRING(255) : DataTypes.TEXT, allowNull: true },
    // SMALLINT like the canonical DDL; SQLite declares small integers as INTEGER.
    unique_states: { type: db === 'sqlite' ? DataTypes.INTEGER : DataTypes.SMALLINT, allowNull: true },
  };
}

/**
 * The unique index of 0002: NULL keys never conflict, so it needs no partial WHERE.
 *
 * @example
 * ```ts
 * const ix = concordiaUniqueJobsIndex('concordia_jobs');
 * await queryInterface.addIndex('concordia_jobs', ix.fields, { name: ix.name, unique: true });
 * ```
 */
export function concordiaUniqueJobsIndex(table: string): { name: string; fields: string[]; unique: true } {
  return { name: `${table}_unique_idx`, fields: ['unique_key'], unique: true };
}

/**
 * The lease index of 0001, by name, for the migration 0003 that drops it.
 *
 * @example
 * ```ts
 * await queryInterface.removeIndex('concordia_jobs', concordiaLeaseIndexName('concordia_jobs'));
 * ```
 */
export function concordiaLeaseIndexName(table: string): string {
  return `${table}_lease_idx`;
}

/**
 * The index of 0003 (`schema/<db>/0003_state_id_index.sql`): lists and counts by state, newest
 * first. It took the lease index's place, so a state change writes as many indexes as before;
 * the rescuer reaches its few running rows through any index that leads with `state`.
 *
 * @example
 * ```ts
 * const ix = concordiaStateIdIndex('concordia_jobs');
 * await queryInterface.addIndex('concordia_jobs', ix.fields, { name: ix.name });
 * ```
 */
export function concordiaStateIdIndex(table: string): { name: string; fields: string[] } {
  return { name: `${table}_state_id_idx`, fields: ['state', 'id'] };
}

/**
 * Every index of the jobs table once all migrations ran (0001's claim index, 0002's unique
 * index, 0003's state index), as the model declares them for `sync()`.
 *
 * @example
 * ```ts
 * const names = concordiaJobsCurrentIndexes('concordia_jobs').map((ix) => ix.name);
 * ```
 */
export function concordiaJobsCurrentIndexes(table: string): { name: string; fields: string[]; unique?: true }[] {
  const lease = concordiaLeaseIndexName(table);
  return [...concordiaJobsIndexes(table).filter((ix) => ix.name !== lease), concordiaStateIdIndex(table), concordiaUniqueJobsIndex(table)];
}

/**
 * MariaDB table options of the canonical DDL: byte-wise comparison of queue and kind names.
 *
 * @example
 * ```ts
 * await queryInterface.createTable(table, attrs, concordiaJobsTableOptions('mysql'));
 * ```
 */
export function concordiaJobsTableOptions(db: ConcordiaSequelizeDb): { engine?: string; charset?: string; collate?: string } {
  return db === 'mysql' ? { engine: 'InnoDB', charset: 'utf8mb4', collate: 'utf8mb4_bin' } : {};
}

/**
 * Defines the jobs model, so `sequelize.sync()` (or `Model.sync()`) creates the table. Concordia
 * itself never reads through the model; it exists for sync and for ad-hoc queries of your own.
 *
 * @example
 * ```ts
 * const ConcordiaJob = defineConcordiaJobModel(sequelize);
 * await ConcordiaJob.sync();
 * ```
 */
export function defineConcordiaJobModel(sequelize: Sequelize, table = 'concordia_jobs', modelName = 'ConcordiaJob'): ModelStatic<Model> {
  const db = concordiaDbOf(sequelize);
  return sequelize.define(modelName, { ...concordiaJobsAttributes(db), ...concordiaUniqueJobsAttributes(db) }, {
    tableName: table,
    // The engine writes created_at itself, in UTC, and has no updated_at.
    timestamps: false,
    underscored: true,
    indexes: concordiaJobsCurrentIndexes(table),
    ...concordiaJobsTableOptions(db),
  });
}
