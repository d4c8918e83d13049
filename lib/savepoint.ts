/**
 * Several statements in the caller's transaction, all or nothing: inside a savepoint, released
 * on success and rolled back on failure. A failing later statement then leaves none of the
 * earlier ones behind, and on PostgreSQL (where any failed statement aborts the transaction)
 * the caller's transaction is usable again after the error. The statements come from the dialect.
 *
 * @internal
 */
import type { Dialect } from './dialects/dialect.ts';
import type { Executor } from './sql/executor.ts';

/** Runs `fn` inside savepoint `name` through `ex`; without savepoints (memory) it just runs `fn`. */
export async function withSavepoint<T>(dialect: Dialect, ex: Executor, name: string, fn: () => Promise<T>): Promise<T> {
  const begin = dialect.savepointSql('begin', name);
  if (begin === null) return fn();
  await ex.execute(begin, []);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    try {
      await ex.execute(dialect.savepointSql('rollback', name)!, []);
      await ex.execute(dialect.savepointSql('release', name)!, []);
    } catch {
      // The connection itself failed: the caller's transaction is gone, and `error` says why.
    }
    throw error;
  }
  await ex.execute(dialect.savepointSql('release', name)!, []);
  return result;
}

/** {@link withSavepoint} for synchronous drivers (better-sqlite3 inside `db.transaction()`). */
export function withSavepointSync<T>(dialect: Dialect, ex: Executor, name: string, fn: () => T): T {
  const begin = dialect.savepointSql('begin', name);
  if (begin === null || !ex.sync) return fn();
  ex.sync.execute(begin, []);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    try {
      ex.sync.execute(dialect.savepointSql('rollback', name)!, []);
      ex.sync.execute(dialect.savepointSql('release', name)!, []);
    } catch {
      // See withSavepoint.
    }
    throw error;
  }
  ex.sync.execute(dialect.savepointSql('release', name)!, []);
  return result;
}
