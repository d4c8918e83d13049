/**
 * The SQL family's session: an {@link Executor} runs the statements a dialect hands it and
 * reports rows and affected counts. SQL adapters build one from their driver's functions with
 * {@link defineExecutor}.
 *
 * @module
 */
import type { Adapter } from '../backend/adapter.ts';

/** The SQL databases Concordia speaks. */
export type DialectName = 'postgres' | 'mysql' | 'sqlite';

/** A parameter value as the engine binds it: dialects encode dates and JSON before this point. */
export type SqlParam = string | number | null;

/** A row as the database returned it; dialects decode the column values. */
export type SqlRow = Record<string, unknown>;

/**
 * Runs statements on one connection or transaction. SQL is written with `?` placeholders;
 * {@link defineExecutor} rewrites them to the driver's style.
 */
export interface Executor {
  /** Which database this executor talks to. */
  readonly dialect: DialectName;
  /** Runs a statement that returns rows (SELECT, or DML with RETURNING). */
  query(sql: string, params: readonly SqlParam[]): Promise<SqlRow[]>;
  /** Runs a statement and returns the number of rows it affected (matched). */
  execute(sql: string, params: readonly SqlParam[]): Promise<number>;
  /**
   * Synchronous variants, present only for synchronous drivers (better-sqlite3), whose
   * transactions are plain synchronous functions that cannot await.
   */
  readonly sync?: {
    query(sql: string, params: readonly SqlParam[]): SqlRow[];
    execute(sql: string, params: readonly SqlParam[]): number;
  };
}

export type { Adapter, Listener, TransactionOptions } from '../backend/adapter.ts';

/**
 * An adapter of the SQL family: its sessions are {@link Executor}s running SQL text, and it
 * knows its database without a round trip.
 */
export interface SqlAdapter<Tx> extends Adapter<Tx, Executor> {
  /** The database this adapter talks to. */
  readonly dialect: DialectName;
}

/** How a driver writes placeholders. */
export type PlaceholderStyle = 'question' | 'dollar';

/**
 * Rewrites `?` placeholders to `$1, $2, …`. Concordia's own SQL never contains a literal `?`
 * (a spec asserts it), so a plain scan is exact for it.
 */
export function toDollarPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** What {@link defineExecutor} needs from an adapter for one connection or transaction. */
export interface RawExecutor {
  dialect: DialectName;
  placeholders: PlaceholderStyle;
  query(sql: string, params: readonly SqlParam[]): Promise<SqlRow[]>;
  execute(sql: string, params: readonly SqlParam[]): Promise<number>;
  sync?: Executor['sync'];
}

/**
 * Builds an {@link Executor} from an adapter's raw functions, doing the placeholder rewrite
 * once here rather than in each adapter. Rewritten SQL is cached: the engine reuses a small set
 * of statement texts.
 */
export function defineExecutor(raw: RawExecutor): Executor {
  if (raw.placeholders === 'question') {
    const ex: Executor = { dialect: raw.dialect, query: raw.query, execute: raw.execute };
    return raw.sync ? { ...ex, sync: raw.sync } : ex;
  }
  const rewrite = (sql: string): string => {
    let out = dollarCache.get(sql);
    if (out === undefined) {
      out = toDollarPlaceholders(sql);
      if (dollarCache.size > 2000) dollarCache.clear();
      dollarCache.set(sql, out);
    }
    return out;
  };
  const ex: Executor = {
    dialect: raw.dialect,
    query: (sql, params) => raw.query(rewrite(sql), params),
    execute: (sql, params) => raw.execute(rewrite(sql), params),
  };
  if (raw.sync) {
    const s = raw.sync;
    return { ...ex, sync: { query: (sql, p) => s.query(rewrite(sql), p), execute: (sql, p) => s.execute(rewrite(sql), p) } };
  }
  return ex;
}

const dollarCache = new Map<string, string>();

/** Coerces a driver's affected-row count (number, bigint or numeric string) to a number. */
export function toCount(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}
