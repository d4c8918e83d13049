/**
 * Hostile suite, class "connection faults during handler", for every ORM adapter whose
 * transactional handlers hold a connection of the ORM's pool (the raw pg and mysql2 adapters
 * have theirs in connection-faults.spec.ts). The server ends the handler's own connection while
 * the handler holds it idle inside its transaction (pg_terminate_backend on PostgreSQL, KILL on
 * MariaDB), as a failover or idle_in_transaction_session_timeout would. A driver that sees the
 * socket end with no 'error' listener on the connection throws an uncaught exception and takes
 * the process down. Invariants: nothing escapes, the job is recorded as failed with an error
 * about the lost connection, and the worker goes on to run the next transactional job.
 *
 * The test finds the connection's socket by its local port (the server reports the client's
 * port), so it waits for the drop without reaching into any ORM's internals.
 */
import net from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, silentLogger, type Executor, type Jobs, type Worker } from '../../lib/index.ts';
import { isReachable, MYSQL_URL, PG_URL, type Db } from '../support/databases.ts';
import { drizzleHarness } from '../support/drizzle-harness.ts';
import type { Harness } from '../support/harness.ts';
import { knexHarness } from '../support/harnesses.ts';
import { kyselyHarness } from '../support/kysely-harness.ts';
import { mikroOrmHarness } from '../support/mikro-orm-harness.ts';
import { prismaHarness } from '../support/prisma-harness.ts';
import { sequelizeHarness } from '../support/sequelize-harness.ts';
import { typeormHarness } from '../support/typeorm-harness.ts';
import { escapeTrap } from './escape-trap.ts';

type ServerDb = Exclude<Db, 'sqlite'>;

/** Every client socket this process opens, so a connection can be found by its local port. */
const sockets = new Set<net.Socket>();
const originalConnect = net.Socket.prototype.connect;

/** The user-side guard the README gives for Kysely on pg: a listener on every client the pool opens. */
function listenPerClient(pool: pg.Pool): void {
  pool.on('connect', (client) => client.on('error', () => {}));
}

/**
 * `leaksConnection`: the ORM never gives the dead connection back to its pool, so closing the
 * pool waits forever. MikroORM 7 on pg: Kysely's controlled transaction releases its connection
 * only after a ROLLBACK succeeds, which it cannot on a dead connection (see the README).
 */
const cases: { name: string; db: ServerDb; make: () => Promise<Harness>; leaksConnection?: boolean }[] = [];
for (const db of ['postgres', 'mysql'] as const) {
  cases.push(
    { name: `knex/${db}`, db, make: () => knexHarness(db) as Promise<Harness> },
    // Kysely keeps the pg client in private fields, out of the adapter's reach: without the
    // README's listener per client this case crashes the process (as it did before the README said so).
    db === 'postgres'
      ? { name: 'kysely/postgres (with the README’s listener per client)', db, make: () => kyselyHarness(db, listenPerClient) as Promise<Harness> }
      : { name: `kysely/${db}`, db, make: () => kyselyHarness(db) as Promise<Harness> },
    { name: `drizzle/${db}`, db, make: () => drizzleHarness(db) as Promise<Harness> },
    { name: `prisma/${db}`, db, make: () => prismaHarness(db) as Promise<Harness> },
    { name: `typeorm/${db}`, db, make: () => typeormHarness(db) as Promise<Harness> },
    { name: `sequelize/${db}`, db, make: () => sequelizeHarness(db) as Promise<Harness> },
    { name: `mikro-orm/${db}`, db, make: () => mikroOrmHarness(db) as Promise<Harness>, leaksConnection: db === 'postgres' },
  );
}
cases.push({ name: 'sequelize/mysql (mysql2 dialect)', db: 'mysql', make: () => sequelizeHarness('mysql', 'mysql') as Promise<Harness> });

/** A connection of our own to look up and end the handler's connection. */
interface Admin {
  /** The local port of the client side of server connection `id`. */
  portOf(id: string): Promise<number>;
  kill(id: string): Promise<void>;
  close(): Promise<void>;
}

async function openAdmin(db: ServerDb): Promise<Admin> {
  if (db === 'postgres') {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    return {
      portOf: async (id) => Number((await client.query('SELECT client_port FROM pg_stat_activity WHERE pid = $1', [id])).rows[0]?.client_port),
      // Our own backend only: the shared server and others' connections are left alone.
      kill: async (id) => void (await client.query('SELECT pg_terminate_backend($1)', [id])),
      close: () => client.end(),
    };
  }
  const conn = await mysql.createConnection({ uri: MYSQL_URL });
  return {
    async portOf(id) {
      const [rows] = await conn.query('SELECT HOST AS host FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
      return Number(String((rows as { host?: string }[])[0]?.host ?? '').split(':').pop());
    },
    kill: async (id) => void (await conn.query(`KILL ${Number(id)}`)),
    close: () => conn.end(),
  };
}

const backendIdSql: Record<ServerDb, string> = { postgres: 'SELECT pg_backend_pid() AS id', mysql: 'SELECT CONNECTION_ID() AS id' };

beforeAll(() => {
  // Records sockets as they connect (pg creates its Socket itself, mysql2 and mariadb go through
  // net.connect; every path ends in Socket#connect). Test-only observation, undone in afterAll.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    sockets.add(this);
    this.once('close', () => sockets.delete(this));
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof originalConnect;
});
afterAll(() => {
  net.Socket.prototype.connect = originalConnect;
});

describe.each(cases)('hostile: the server ends a transactional handler’s connection, $name', ({ name, db, make, leaksConnection }) => {
  let h: Harness | undefined;
  let admin: Admin | undefined;
  let available = true;
  const trap = escapeTrap();
  const { escaped } = trap;
  const workers: Worker[] = [];

  beforeAll(async () => {
    available = await isReachable(db);
    if (!available) return;
    h = await make();
    admin = await openAdmin(db);
  }, 120_000);
  afterAll(async () => {
    await admin?.close();
    // The tables are dropped and the inspector closed before the ORM itself, whose close would
    // never return when its pool still counts the leaked connection as checked out.
    if (leaksConnection) void h?.close().catch(() => {});
    else await h?.close();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  it('does not crash the worker; the failure is recorded and the next transactional job runs', async (ctx) => {
    if (!available) return ctx.skip();
    const harness = h!;
    let socketFound = false;
    const killed = defineJob<{ n: number }>('orm_fault_killed', {
      transactional: true,
      maxAttempts: 1,
      handler: async (_args, jobCtx) => {
        const [row] = await (harness.adapter.bind(jobCtx.tx) as Executor).query(backendIdSql[db], []);
        const id = String(row?.['id']);
        const port = await admin!.portOf(id);
        const socket = [...sockets].find((s) => s.localPort === port && !s.destroyed);
        if (!socket) throw new Error(`test: no socket of ours on local port ${port} (connection ${id})`);
        socketFound = true;
        // Whichever comes first: some drivers remove every listener of a socket once it fails,
        // but an event being emitted still reaches the listeners it started with.
        const closed = new Promise<void>((resolve) => {
          for (const event of ['end', 'error', 'close']) socket.once(event, () => resolve());
        });
        await admin!.kill(id);
        // The driver has seen the end of its socket (its own listeners ran first);
        // one more turn lets anything it deferred with nextTick run while we still hold the tx.
        await closed;
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const after = defineJob<{ n: number }>('orm_fault_after', {
      transactional: true,
      maxAttempts: 1,
      handler: async (_args, jobCtx) => void (await (harness.adapter.bind(jobCtx.tx) as Executor).query('SELECT 1 AS one', [])),
    });
    const jobs = createJobs({ adapter: harness.adapter, table: harness.table, jobs: [killed, after] }) as Jobs<unknown>;
    const queue = `orm_fault_${name.replace(/\W+/g, '_')}`;
    const killedId = await jobs.enqueueAutocommit(killed({ n: 1 }), { queue });
    const worker = jobs.createWorker({ queues: [queue], pollIntervalMs: 20, concurrency: 1, logger: silentLogger });
    workers.push(worker);
    const crashed = new Promise<never>((_resolve, reject) => {
      trap.onEscape((reason) => reject(new Error(`escaped as uncaught: ${String((reason as Error)?.message ?? reason)}`, { cause: reason })));
    });
    const first = worker.next('job:discarded');
    await worker.start();
    await Promise.race([first, crashed]);
    const second = Promise.race([
      worker.next('job:completed').then(() => 'completed'),
      worker.next('job:discarded').then(({ error }) => `discarded: ${String((error as Error)?.message ?? error)}`),
    ]);
    const afterId = await jobs.enqueueAutocommit(after({ n: 2 }), { queue });
    expect(await Promise.race([second, crashed])).toBe('completed');
    const rows = new Map((await harness.rows()).map((r) => [r.id, r]));
    expect(socketFound).toBe(true);
    expect(rows.get(killedId)?.state).toBe('discarded');
    expect(rows.get(killedId)?.errors?.[0]?.message).toMatch(/terminat|connection|closed|killed|socket|server has gone away/i);
    expect(rows.get(afterId)?.state).toBe('completed');
    expect(worker.state).toBe('running');
    expect(escaped).toEqual([]);
  });
});
