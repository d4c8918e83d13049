/**
 * The adapter seam. An adapter turns an ORM's, driver's or store client's transaction handle
 * into the session its backend needs, gives the dispatcher short transactions of its own, and
 * names the backend that owns every statement for its store.
 *
 * @module
 */
import type { Backend, BackendOptions } from './backend.ts';

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
 * What the engine needs from an ORM, driver or store client. `Tx` is the caller's transaction
 * handle type: a Knex `Transaction`, a Prisma transaction client, a `pg.PoolClient` inside
 * BEGIN, … `S` is the session type of the backend the adapter builds: SQL adapters hand out an
 * {@link Executor}; other stores their own. Adapters hold no queue logic.
 */
export interface Adapter<Tx, S = unknown> {
  /** Short name for messages, e.g. `knex`. */
  readonly name: string;
  /**
   * Builds the backend that owns every statement or command for this adapter's store (called
   * once per client). SQL adapters return the dialect of their database.
   */
  backend(options: BackendOptions): Backend<S>;
  /**
   * Wraps the caller's transaction handle. Must throw {@link concordia!NotInTransactionError} when it can
   * tell the handle is not inside an open transaction: an autocommit insert there would be a
   * silent dual write.
   */
  bind(tx: Tx): S;
  /** A session on the adapter's own pool or connection, each write committed on its own. */
  autocommit(): S;
  /** Runs `fn` inside a short transaction on the adapter's own pool (commit on return, rollback on throw). */
  transaction<T>(fn: (session: S) => Promise<T>, options?: TransactionOptions): Promise<T>;
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
   * Optional, where the backend's `capabilities.wakeups` is `listen` (PostgreSQL): opens a
   * dedicated connection that LISTENs on `channel` and calls `onNotification` with each payload. `onError` reports a lost connection; the worker then
   * closes this listener and opens a new one. Adapters without it simply poll.
   */
  listen?(channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void): Promise<Listener>;
}

/** A LISTEN connection opened by {@link Adapter.listen}. */
export interface Listener {
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}

