/**
 * The adapter seam. An adapter turns an ORM's or driver's transaction handle into an
 * {@link Executor}, and gives the dispatcher short transactions of its own on the adapter's pool.
 * Adapters hold no queue logic: they run the statements a dialect hands them and report rows
 * and affected counts.
 *
 * @module
 */

/** The databases Concordia speaks. `memory` is the in-process store for tests. */
export type DialectName = 'postgres' | 'mysql' | 'sqlite' | 'memory';

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

/** Options of {@link Adapter.transaction}. */
export interface TransactionOptions {
  /**
   * Take the write lock at BEGIN (SQLite `BEGIN IMMEDIATE`); other databases ignore it. A
   * deferred SQLite transaction that upgrades from read to write can fail with SQLITE_BUSY
   * without waiting, so the dispatcher always asks for this.
   */
  immediate?: boolean;
}

/**
 * What the engine needs from an ORM or driver. `Tx` is the caller's transaction handle type:
 * a Knex `Transaction`, a Prisma transaction client, a `pg.PoolClient` inside BEGIN, …
 */
export interface Adapter<Tx> {
  /** Short name for messages, e.g. `knex`. */
  readonly name: string;
  /** The database this adapter talks to, known without a round trip. */
  readonly dialect: DialectName;
  /**
   * Wraps the caller's transaction handle. Must throw {@link concordia!NotInTransactionError} when it can
   * tell the handle is not inside an open transaction: an autocommit insert there would be a
   * silent dual write.
   */
  bind(tx: Tx): Executor;
  /** An executor on the adapter's own pool, each statement autocommitted. */
  autocommit(): Executor;
  /** Runs `fn` inside a short transaction on the adapter's own pool (commit on return, rollback on throw). */
  transaction<T>(fn: (ex: Executor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Optional: calls `fn` once `tx` has committed (never on rollback), where the ORM offers a
   * commit hook. The client uses it to wake this process's idle workers right after a
   * transactional enqueue becomes visible.
   */
  afterCommit?(tx: Tx, fn: () => void): void;
  /**
   * Optional: runs `fn` inside a transaction of the ORM's own API and hands it the handle your
   * code uses (`Tx`), committing when `fn` resolves. Powers `transactional: true` job kinds.
   */
  userTransaction?<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Optional: problems with how the driver is set up that the adapter can see, as sentences
   * (e.g. a `pg` pool without an `'error'` listener). A worker logs them once as warnings when
   * it starts.
   */
  setupWarnings?(): string[];
  /**
   * PostgreSQL only, optional: opens a dedicated connection that LISTENs on `channel` and calls
   * `onNotification` with each payload. `onError` reports a lost connection; the worker then
   * closes this listener and opens a new one. Adapters without it simply poll.
   */
  listen?(channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void): Promise<Listener>;
}

/** A LISTEN connection opened by {@link Adapter.listen}. */
export interface Listener {
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
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
