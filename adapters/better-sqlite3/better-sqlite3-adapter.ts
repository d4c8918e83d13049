/**
 * better-sqlite3 adapter. better-sqlite3 is synchronous: inside `db.transaction(() => …)` use
 * `jobs.enqueueSync(db, …)`; the async `enqueue` works between a manual BEGIN and COMMIT.
 *
 * @module concordia/better-sqlite3
 */
import type { Database, Statement } from 'better-sqlite3';
import { NotInTransactionError } from '../../lib/errors.ts';
import { defineExecutor, type SqlAdapter, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

/**
 * Creates the better-sqlite3 adapter. Enqueue and the dispatcher share `db`, SQLite's one
 * writer: each dispatcher write is a single statement, so it never holds the write lock across
 * an await. Open the database in WAL mode with a busy timeout for concurrent readers.
 *
 * @example
 * ```ts
 * const db = new Database('app.db');
 * db.pragma('journal_mode = WAL');
 * const jobs = createJobs({ adapter: betterSqlite3Adapter(db), jobs: [sendEmail] });
 * db.transaction(() => {
 *   db.prepare('INSERT INTO orders (id) VALUES (?)').run(7);
 *   jobs.enqueueSync(db, sendEmail({ orderId: '7' }));
 * })();
 * ```
 */
export function betterSqlite3Adapter(db: Database): SqlAdapter<Database> {
  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const sync = {
    query: (sql: string, params: readonly SqlParam[]) => prepare(sql).all(...params) as SqlRow[],
    execute: (sql: string, params: readonly SqlParam[]) => prepare(sql).run(...params).changes,
  };
  const ex: Executor = defineExecutor({
    dialect: 'sqlite',
    placeholders: 'question',
    query: async (sql, params) => sync.query(sql, params),
    execute: async (sql, params) => sync.execute(sql, params),
    sync,
  });
  return {
    name: 'better-sqlite3',
    dialect: 'sqlite',
    backend: (options) => sqlDialect('sqlite', options),
    bind(handle) {
      if (handle !== db) {
        throw new NotInTransactionError('betterSqlite3Adapter: pass the same Database the adapter was created with.');
      }
      if (!db.inTransaction) {
        throw new NotInTransactionError(
          'betterSqlite3Adapter: the database is not inside a transaction. Call jobs.enqueueSync(db, …) inside db.transaction(() => …), ' +
            'or use jobs.enqueueAutocommit().',
        );
      }
      return ex;
    },
    autocommit: () => ex,
    async transaction(fn, options) {
      if (db.inTransaction) throw new NotInTransactionError('betterSqlite3Adapter: a transaction is already open on this connection.');
      db.exec(options?.immediate === false ? 'BEGIN' : 'BEGIN IMMEDIATE');
      try {
        const out = await fn(ex);
        db.exec('COMMIT');
        return out;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
  };
}
