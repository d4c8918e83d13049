/**
 * node-postgres (`pg`) adapter: enqueue on a `PoolClient` inside `BEGIN … COMMIT`.
 *
 * @module concordia/pg
 */
import type { Pool, PoolClient, QueryResult } from 'pg';
import { NotInTransactionError } from '../../lib/errors.ts';
import { defineExecutor, type SqlAdapter, type Executor, type SqlParam } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';
import { preparingPgExecutor } from '../../lib/sql/statement-names.ts';
import { dedicatedClient, listenOn } from './pg-listen.ts';

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
 * BEGIN … COMMIT on a pooled client, ROLLBACK on any throw.
 *
 * While checked out, a client has no 'error' listener of the pool's (pg-pool only listens on
 * idle clients), and an EventEmitter 'error' without a listener crashes the process. A server
 * that ends the connection mid-transaction (restart, failover, pg_terminate_backend,
 * idle_in_transaction_session_timeout) emits exactly that, so the client carries a listener of
 * ours for as long as we hold it. The failing query rejects on its own; the listener only keeps
 * the event from being fatal, and the broken client is destroyed instead of returned to the pool.
 */
async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (error) {
    if (!broken) await client.query('ROLLBACK').catch(() => {});
    // After the connection died, node-postgres rejects later queries with a generic "not
    // queryable" error; the server's own reason (e.g. "terminating connection due to
    // administrator command") is the one worth recording.
    throw broken && isNotQueryable(error) ? broken : error;
  } finally {
    client.off('error', onError);
    // release(error) makes the pool discard the client rather than hand out a dead connection.
    client.release(broken);
  }
}

function isNotQueryable(error: unknown): boolean {
  return error instanceof Error && /not queryable|Connection terminated/i.test(error.message);
}

/**
 * The dispatcher's executor on the pool. With `prepare`, each statement text gets a name, so
 * PostgreSQL parses and plans it once per connection instead of on every call.
 */
function poolExecutorFor(pool: Pool, prepare: boolean): Executor {
  return prepare ? preparingPgExecutor((query) => pool.query(query)) : executorFor(pool);
}

/** Pools already warned about a missing 'error' listener. */
const warnedPools = new WeakSet<Pool>();

/** Options of {@link pgAdapter}. */
export interface PgAdapterOptions {
  /**
   * Run the dispatcher's statements as named prepared statements (parsed and planned once per
   * connection). Default `true`. Set `false` behind a pooler that cannot keep prepared
   * statements across transactions, such as PgBouncer in transaction mode before 1.21 (or
   * without `max_prepared_statements`). Statements run on your `PoolClient` are never prepared.
   */
  preparedStatements?: boolean;
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
export function pgAdapter(pool: Pool, options: PgAdapterOptions = {}): SqlAdapter<PoolClient> {
  const autocommit = poolExecutorFor(pool, options.preparedStatements ?? true);
  return {
    name: 'pg',
    dialect: 'postgres',
    backend: (options) => sqlDialect('postgres', options),
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
    listen(channel, onNotification, onError) {
      // A connection of its own, outside the pool (LISTEN is per session and held for as long
      // as the worker runs; taking it from the pool would shrink the pool for everyone else).
      return listenOn(dedicatedClient(pool), channel, onNotification, onError);
    },
    setupWarnings() {
      // An idle pooled connection that the server ends (restart, failover, idle timeout) emits
      // 'error' on the pool; without a listener that is an uncaught exception. Warn once per pool.
      if (pool.listenerCount('error') > 0 || warnedPools.has(pool)) return [];
      warnedPools.add(pool);
      return [
        "pgAdapter: the pool has no 'error' listener. An idle connection ended by the server (restart, failover, " +
          "idle timeout) then crashes the process. Add pool.on('error', (err) => log(err)); see the README, \"Delivery guarantees\".",
      ];
    },
    transaction: (fn) => inTransaction(pool, (client) => fn(executorFor(client))),
    userTransaction: (fn) => inTransaction(pool, fn),
  };
}
