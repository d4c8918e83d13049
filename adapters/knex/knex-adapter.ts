/**
 * Knex adapter: enqueue inside `knex.transaction(async (trx) => …)`.
 *
 * @module concordia/knex
 */
import type { Knex } from 'knex';
import { NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type Listener, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';
import { preparingPgExecutor, type PgQueryConfig } from '../../lib/sql/statement-names.ts';

function dialectOf(knex: Knex | Knex.Transaction): Exclude<DialectName, 'memory'> {
  const name = String((knex.client as { dialect?: unknown }).dialect ?? '');
  if (name === 'postgresql' || name === 'postgres') return 'postgres';
  if (name === 'mysql' || name === 'mysql2') return 'mysql';
  if (name === 'sqlite3' || name === 'better-sqlite3') return 'sqlite';
  throw new UnknownDialectError(`knexAdapter: unsupported Knex client dialect "${name}" (supported: pg, mysql2, better-sqlite3).`);
}

/** Knex answers with the driver's own result shape; this reads rows out of each. */
function rowsOf(result: unknown): SqlRow[] {
  if (Array.isArray(result)) {
    // mysql2: [rows, fields]; better-sqlite3: rows.
    const first: unknown = result[0];
    if (result.length === 2 && (Array.isArray(first) || (first !== null && typeof first === 'object' && 'affectedRows' in first))) {
      return Array.isArray(first) ? (first as SqlRow[]) : [];
    }
    return result as SqlRow[];
  }
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as SqlRow[]) : [];
}

/** Affected rows: pg `rowCount`, mysql2 `[header].affectedRows`, better-sqlite3 `changes`. */
function countOf(result: unknown): number {
  if (Array.isArray(result)) return toCount((result[0] as { affectedRows?: unknown } | undefined)?.affectedRows);
  const r = result as { rowCount?: unknown; changes?: unknown } | null;
  return toCount(r?.rowCount ?? r?.changes);
}

function executorFor(runner: Knex | Knex.Transaction, dialect: Exclude<DialectName, 'memory'>): Executor {
  return defineExecutor({
    dialect,
    // Knex rewrites `?` for each driver itself.
    placeholders: 'question',
    query: async (sql: string, params: readonly SqlParam[]) => rowsOf(await runner.raw(sql, params as SqlParam[])),
    execute: async (sql: string, params: readonly SqlParam[]) => countOf(await runner.raw(sql, params as SqlParam[])),
  });
}

/** The pg driver's client, as Knex's pool hands it out. */
interface PooledPgConnection {
  query(config: PgQueryConfig): Promise<{ rows: SqlRow[]; rowCount: number | null }>;
}

/**
 * The dispatcher's executor on PostgreSQL: it borrows a connection from Knex's pool and runs
 * each statement as a named prepared statement on the pg driver directly, so PostgreSQL plans
 * it once per connection (`knex.raw` has no way to name a statement). Knex's query events do
 * not see these statements.
 */
function preparingKnexPgExecutor(knex: Knex): Executor {
  const client = knex.client as { acquireConnection(): Promise<PooledPgConnection>; releaseConnection(c: PooledPgConnection): Promise<unknown> };
  return preparingPgExecutor(async (query) => {
    const conn = await client.acquireConnection();
    try {
      return await conn.query(query);
    } finally {
      await client.releaseConnection(conn);
    }
  });
}

/** Options of {@link knexAdapter}. */
export interface KnexAdapterOptions {
  /**
   * PostgreSQL only: run the dispatcher's statements as named prepared statements on Knex's
   * pooled pg connections (parsed and planned once per connection). Default `true`. Set `false`
   * behind a pooler that cannot keep prepared statements across transactions, such as PgBouncer
   * in transaction mode before 1.21. Statements in your `trx` always go through `trx.raw`.
   */
  preparedStatements?: boolean;
}

/** A raw pg client of Knex's own connection settings, outside its pool, holding a LISTEN. */
interface RawPgClient {
  query(sql: string): Promise<unknown>;
  on(event: string, fn: (arg: never) => void): void;
  off(event: string, fn: (arg: never) => void): void;
}

async function listenWithKnex(
  knex: Knex,
  channel: string,
  onNotification: (payload: string) => void,
  onError: (error: unknown) => void,
): Promise<Listener> {
  const client = knex.client as { acquireRawConnection(): Promise<RawPgClient>; destroyRawConnection(c: RawPgClient): Promise<void> };
  const conn = await client.acquireRawConnection();
  let closed = false;
  const onNotify = (msg: { channel: string; payload?: string }): void => {
    if (msg.channel === channel) onNotification(msg.payload ?? '');
  };
  const onConnError = (error: unknown): void => {
    if (!closed) onError(error);
  };
  conn.on('notification', onNotify as (arg: never) => void);
  conn.on('error', onConnError as (arg: never) => void);
  conn.on('end', (() => onConnError(new Error('LISTEN connection ended'))) as (arg: never) => void);
  try {
    await conn.query(`LISTEN "${channel}"`);
  } catch (error) {
    closed = true;
    await client.destroyRawConnection(conn).catch(() => {});
    throw error;
  }
  return {
    async close() {
      if (closed) return;
      closed = true;
      conn.off('notification', onNotify as (arg: never) => void);
      await client.destroyRawConnection(conn).catch(() => {});
    },
  };
}

/**
 * Creates the Knex adapter. The dispatcher uses `knex`'s own pool.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter: knexAdapter(knex), jobs: [sendEmail] });
 * await knex.transaction(async (trx) => {
 *   await trx('orders').insert(order);
 *   await jobs.enqueue(trx, sendEmail({ orderId: order.id }));
 * });
 * ```
 */
export function knexAdapter(knex: Knex, options: KnexAdapterOptions = {}): SqlAdapter<Knex.Transaction> {
  const dialect = dialectOf(knex);
  const autocommit = dialect === 'postgres' && (options.preparedStatements ?? true) ? preparingKnexPgExecutor(knex) : executorFor(knex, dialect);
  return {
    name: 'knex',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(trx) {
      if (!trx || (trx as { isTransaction?: unknown }).isTransaction !== true) {
        throw new NotInTransactionError(
          'knexAdapter: enqueue() needs the `trx` of knex.transaction(async (trx) => …), not the knex instance. ' +
            'Outside a transaction use jobs.enqueueAutocommit().',
        );
      }
      if (trx.isCompleted()) throw new NotInTransactionError('knexAdapter: this transaction has already committed or rolled back.');
      return executorFor(trx, dialect);
    },
    autocommit: () => autocommit,
    transaction: (fn) => knex.transaction((trx) => fn(executorFor(trx, dialect))),
    userTransaction: (fn) => knex.transaction((trx) => fn(trx)),
    // Knex settles a transaction's executionPromise when it commits (rejects on rollback).
    afterCommit: (trx, fn) => void trx.executionPromise.then(fn, () => {}),
    ...(dialect === 'postgres' ? { listen: (channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void) => listenWithKnex(knex, channel, onNotification, onError) } : {}),
  };
}
