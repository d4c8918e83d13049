/**
 * node-postgres (`pg`) adapter: enqueue on a `PoolClient` inside `BEGIN … COMMIT`.
 *
 * @module
 */
import type { Pool, PoolClient, QueryResult } from 'pg';
import { NotInTransactionError } from '../../lib/errors.ts';
import { defineExecutor, type Adapter, type Executor, type SqlParam } from '../../lib/sql/executor.ts';

type Queryable = Pick<PoolClient, 'query'>;

function executorFor(q: Queryable): Executor {
  return defineExecutor({
    dialect: 'postgres',
    placeholders: 'dollar',
    query: async (sql, params) => (await q.query(sql, params as SqlParam[])).rows,
    execute: async (sql, params) => ((await q.query(sql, params as SqlParam[])) as QueryResult).rowCount ?? 0,
  });
}

/**
 * Creates the `pg` adapter. The dispatcher uses `pool`; enqueue takes a client on which you ran
 * BEGIN.
 *
 * @example
 * ```ts
 * const client = await pool.connect();
 * try {
 *   await client.query('BEGIN');
 *   await client.query('INSERT INTO orders …');
 *   await jobs.enqueue(client, sendEmail({ orderId }));
 *   await client.query('COMMIT');
 * } catch (e) { await client.query('ROLLBACK'); throw e; } finally { client.release(); }
 * ```
 */
export function pgAdapter(pool: Pool): Adapter<PoolClient> {
  const autocommit = executorFor(pool);
  return {
    name: 'pg',
    dialect: 'postgres',
    bind(client) {
      // pg records the server's transaction status from each ReadyForQuery message:
      // 'I' idle (autocommit), 'T' in a transaction, 'E' in a failed transaction.
      const status = (client as { _txStatus?: unknown } | null)?._txStatus;
      if (!client || typeof client.query !== 'function' || 'totalCount' in client) {
        throw new NotInTransactionError('pgAdapter: enqueue() needs a PoolClient on which you ran BEGIN, not the Pool.');
      }
      if (status === 'I') {
        throw new NotInTransactionError('pgAdapter: this client is not inside a transaction; run BEGIN first, or use jobs.enqueueAutocommit().');
      }
      return executorFor(client);
    },
    autocommit: () => autocommit,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(executorFor(client));
        await client.query('COMMIT');
        return out;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
