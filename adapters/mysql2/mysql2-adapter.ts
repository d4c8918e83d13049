/**
 * mysql2 adapter (MariaDB 10.6+): enqueue on a pool connection after `beginTransaction()`.
 *
 * @module concordia/mysql2
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { NotInTransactionError } from '../../lib/errors.ts';
import { defineExecutor, type SqlAdapter, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';

type Queryable = Pick<PoolConnection, 'query'>;

function executorFor(q: Queryable, check?: () => Promise<void>): Executor {
  return defineExecutor({
    dialect: 'mysql',
    placeholders: 'question',
    query: async (sql, params) => {
      await check?.();
      const [rows] = await q.query<RowDataPacket[]>(sql, params as SqlParam[]);
      return rows as SqlRow[];
    },
    execute: async (sql, params) => {
      await check?.();
      const [header] = await q.query<ResultSetHeader>(sql, params as SqlParam[]);
      return header.affectedRows;
    },
  });
}

/** A transaction on a pooled connection, at `isolation` if given, rolled back on any throw. */
async function inTransaction<T>(pool: Pool, isolation: string | null, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    if (isolation) await conn.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
    await conn.beginTransaction();
    const out = await fn(conn);
    await conn.commit();
    return out;
  } catch (error) {
    await conn.rollback().catch(() => {});
    throw error;
  } finally {
    conn.release();
  }
}

/**
 * Creates the mysql2 adapter (from `mysql2/promise`). The dispatcher uses `pool`.
 *
 * mysql2 keeps no client-side record of whether a connection is inside a transaction, so each
 * transactional statement first asks the server (`@@in_transaction`): one extra round trip per
 * enqueue, the price of refusing a connection that would silently autocommit.
 */
export function mysql2Adapter(pool: Pool): SqlAdapter<PoolConnection> {
  const autocommit = executorFor(pool);
  return {
    name: 'mysql2',
    dialect: 'mysql',
    backend: (options) => sqlDialect('mysql', options),
    bind(conn) {
      if (!conn || typeof conn.query !== 'function' || typeof (conn as { release?: unknown }).release !== 'function') {
        throw new NotInTransactionError('mysql2Adapter: enqueue() needs a PoolConnection on which you called beginTransaction(), not the Pool.');
      }
      return executorFor(conn, async () => {
        const [rows] = await conn.query<RowDataPacket[]>('SELECT @@in_transaction AS t');
        if (Number(rows[0]?.['t']) !== 1) {
          throw new NotInTransactionError('mysql2Adapter: this connection is not inside a transaction; call beginTransaction() first, or use jobs.enqueueAutocommit().');
        }
      });
    },
    autocommit: () => autocommit,
    // The dispatcher's own transactions read committed data only: under REPEATABLE READ a long
    // snapshot would add gap locks that collide with users' inserts.
    transaction: (fn) => inTransaction(pool, 'READ COMMITTED', (conn) => fn(executorFor(conn))),
    userTransaction: (fn) => inTransaction(pool, null, fn),
  };
}
