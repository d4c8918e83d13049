/**
 * Several statements in the caller's transaction, all or nothing: inside a savepoint, released
 * on success and rolled back on failure. A failing later statement then leaves none of the
 * earlier ones behind, and on PostgreSQL (where any failed statement aborts the transaction)
 * the caller's transaction is usable again after the error. The statements come from the dialect.
 *
 * @internal
 */
import type { Executor } from '../sql/executor.ts';
import type { Dialect } from './dialect.ts';

/** Runs `fn` inside savepoint `name` through `ex`. */
export async function withSavepoint<T>(dialect: Dialect, ex: Executor, name: string, fn: () => Promise<T>): Promise<T> {
  await ex.execute(dialect.savepointSql('begin', name), []);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    try {
      await ex.execute(dialect.savepointSql('rollback', name), []);
      await ex.execute(dialect.savepointSql('release', name), []);
    } catch {
      // The connection itself failed: the caller's transaction is gone, and `error` says why.
    }
    throw error;
  }
  await ex.execute(dialect.savepointSql('release', name), []);
  return result;
}

/** {@link withSavepoint} for synchronous drivers (better-sqlite3 inside `db.transaction()`). */
export function withSavepointSync<T>(dialect: Dialect, ex: Executor, name: string, fn: () => T): T {
  if (!ex.sync) return fn();
  ex.sync.execute(dialect.savepointSql('begin', name), []);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    try {
      ex.sync.execute(dialect.savepointSql('rollback', name), []);
      ex.sync.execute(dialect.savepointSql('release', name), []);
    } catch {
      // See withSavepoint.
    }
    throw error;
  }
  ex.sync.execute(dialect.savepointSql('release', name), []);
  return result;
}
