/**
 * Harness factories for the adapters of the foundation: pg, mysql2, better-sqlite3, knex and
 * memory. A new adapter joins the conformance suite with one factory here and a one-line spec.
 */
import Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { knexAdapter } from '../../adapters/knex/knex-adapter.ts';
import { memoryAdapter, type MemoryTransaction } from '../../adapters/memory/memory-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';

/** An independent connection to `db` for looking at tables from outside. */
export function inspector(db: Db, sqlitePath?: string): { ex: ReturnType<ReturnType<typeof pgAdapter>['autocommit']>; close(): Promise<void> } {
  if (db === 'postgres') {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
    return { ex: pgAdapter(pool).autocommit(), close: () => pool.end() };
  }
  if (db === 'mysql') {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 });
    return { ex: mysql2Adapter(pool).autocommit(), close: () => pool.end() };
  }
  const conn = new Database(sqlitePath!, { timeout: 5000 });
  return { ex: betterSqlite3Adapter(conn).autocommit(), close: async () => void conn.close() };
}

export async function knexHarness(db: Db): Promise<Harness<Knex.Transaction>> {
  const table = uniqueTable();
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const knex =
    db === 'postgres'
      ? knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 10 } })
      : db === 'mysql'
        ? knexFactory({ client: 'mysql2', connection: MYSQL_URL, pool: { min: 0, max: 10 } })
        : knexFactory({ client: 'better-sqlite3', connection: { filename: sqlitePath! }, useNullAsDefault: true });
  if (db === 'sqlite') await knex.raw('PRAGMA journal_mode = WAL');
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  await view.setup();
  return {
    name: `knex/${db}`,
    db,
    adapter: knexAdapter(knex),
    table,
    inTransaction: (fn) => knex.transaction((trx) => fn(trx)),
    insertOrder: async (trx, id) => void (await trx.raw(view.insertOrderSql, [id])),
    notInTransaction: () => knex,
    ...inspectedMembers(view, ins, () => knex.destroy()),
  };
}

/** With `table`, on that table: a schema-qualified one gets its schema made and dropped (see sqlInspection). */
export async function pgHarness(table = uniqueTable()): Promise<Harness<pg.PoolClient>> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  const adapter = pgAdapter(pool);
  const ins = inspector('postgres');
  const view = sqlInspection('postgres', table, ins.ex);
  await view.setup();
  return {
    name: table.includes('.') ? 'pg/postgres (schema-qualified)' : 'pg/postgres',
    db: 'postgres',
    adapter,
    table,
    // The adapter's own user transaction: BEGIN … COMMIT on a pooled client.
    inTransaction: (fn) => adapter.userTransaction!(fn),
    insertOrder: async (client, id) => void (await client.query(view.insertOrderSql.replace('?', '$1'), [id])),
    notInTransaction: () => pool,
    ...inspectedMembers(view, ins, () => pool.end()),
  };
}

/** With `table`, on that table: a schema-qualified one gets its schema made and dropped (see sqlInspection). */
export async function mysql2Harness(table = uniqueTable()): Promise<Harness<mysql.PoolConnection>> {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
  const adapter = mysql2Adapter(pool);
  const ins = inspector('mysql');
  const view = sqlInspection('mysql', table, ins.ex);
  await view.setup();
  return {
    name: table.includes('.') ? 'mysql2/mysql (schema-qualified)' : 'mysql2/mysql',
    db: 'mysql',
    adapter,
    table,
    inTransaction: (fn) => adapter.userTransaction!(fn),
    insertOrder: async (conn, id) => void (await conn.query(view.insertOrderSql, [id])),
    notInTransaction: () => pool,
    ...inspectedMembers(view, ins, () => pool.end()),
  };
}

export async function betterSqlite3Harness(): Promise<Harness<Database.Database>> {
  const table = uniqueTable();
  const path = tempSqlitePath();
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  const ins = inspector('sqlite', path);
  const view = sqlInspection('sqlite', table, ins.ex);
  await view.setup();
  return {
    name: 'better-sqlite3/sqlite',
    db: 'sqlite',
    adapter: betterSqlite3Adapter(db),
    table,
    async inTransaction(fn) {
      // The async form: BEGIN, awaited work, COMMIT on the one connection.
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(db);
        db.exec('COMMIT');
        return out;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    insertOrder: async (conn, id) => void conn.prepare(view.insertOrderSql).run(id),
    notInTransaction: () => db,
    ...inspectedMembers(view, ins, () => db.close()),
  };
}

export async function memoryHarness(): Promise<Harness<MemoryTransaction>> {
  const memory = memoryAdapter();
  const orders: number[] = [];
  return {
    name: 'memory',
    db: 'memory',
    adapter: memory,
    table: 'concordia_jobs',
    async inTransaction(fn) {
      const pending: number[] = [];
      const out = await memory.transactional((tx) => fn(Object.assign(tx, { __orders: pending })));
      orders.push(...pending);
      return out;
    },
    async insertOrder(tx, id) {
      const t = tx as unknown as { __orders?: number[] };
      if (!t.__orders) {
        // A transaction the adapter opened itself (a transactional job's): its orders count once it commits.
        const pending: number[] = (t.__orders = []);
        memory.afterCommit!(tx, () => orders.push(...pending));
      }
      t.__orders.push(id);
    },
    orderIds: async () => [...orders].sort((a, b) => a - b),
    notInTransaction: () => ({}),
    rows: async () =>
      memory.rows().map((r) => ({
        id: String(r.id),
        queue: r.queue,
        kind: r.kind,
        state: r.state,
        priority: r.priority,
        attempt: r.attempt,
        maxAttempts: r.maxAttempts,
        runAtMs: r.runAt,
        finalizedAtMs: r.finalizedAt,
        leaseToken: r.leaseToken,
        lockedBy: r.lockedBy,
        errors: r.errors,
        metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as unknown),
        args: JSON.parse(r.args) as unknown,
      })),
    async expireLease(id) {
      // The session handed out by the adapter carries the store itself.
      const row = memory.autocommit().store.rows.get(Number(id));
      if (!row) throw new Error(`memory: no job ${id}`);
      row.leaseExpiresAt = Date.now() - 1;
    },
    async insertRaw(row) {
      // Straight through the backend: none of enqueue's checks of kind and args.
      const backend = memory.backend({ table: 'concordia_jobs' });
      const [id] = await backend.insert(memory.autocommit(), [{ queue: 'corrupt', kind: row.kind, argsJson: row.argsJson, metadataJson: null, priority: 0, maxAttempts: 20, runAt: null, delayMs: 0 }], null);
      return id!;
    },
    async close() {},
  };
}

/** The raw driver's harness for each database: the reference adapter of the hostile suites. */
export function rawDriverHarness(db: Db): Promise<Harness> {
  if (db === 'postgres') return pgHarness() as Promise<Harness>;
  if (db === 'mysql') return mysql2Harness() as Promise<Harness>;
  return betterSqlite3Harness() as Promise<Harness>;
}
