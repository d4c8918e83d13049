/**
 * Where a Prisma worker on PostgreSQL gets the settings of its LISTEN connection: the `listen`
 * option when given, otherwise the settings `@prisma/adapter-pg` was built with, read from the
 * PrismaClient. Prisma keeps its driver adapter privately, so reading it is best effort: when
 * nothing usable is found the adapter polls and says so once, through `setupWarnings`.
 *
 * @module
 */
import type { Pool, PoolConfig } from 'pg';
import { dedicatedClient, type PgListenClient } from '../pg/pg-listen.ts';

/** The settings a LISTEN connection is opened with. */
export type ListenSource = { kind: 'url'; url: string } | { kind: 'pool'; pool: Pool } | { kind: 'config'; config: PoolConfig };

/** The package name `@prisma/adapter-pg` reports as its `adapterName`. */
const ADAPTER_PG = '@prisma/adapter-pg';

/** A pg.Pool, recognised by shape so a second copy of `pg` in node_modules still counts. */
export function isPoolLike(value: unknown): value is Pool {
  return typeof value === 'object' && value !== null && typeof (value as { connect?: unknown }).connect === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a private field; a getter or proxy that throws counts as absent. */
function read(get: () => unknown): unknown {
  try {
    return get();
  } catch {
    return undefined;
  }
}

/**
 * The settings of the driver adapter behind `client`, or why there are none. Prisma 7 keeps
 * the adapter factory (`new PrismaPg(…)`) in `_engineConfig.adapter` and hands the same object
 * to its engine (`_engine.config.adapter`); `PrismaPg` keeps a pool it was given in
 * `externalPool`, and otherwise its pool config (a connection string becomes
 * `{ connectionString }`) in `config`. Every one of these is private, so each is checked for
 * shape and a later Prisma that moves them yields a reason instead of a wrong connection.
 */
export function driverListenSource(client: object): { source: ListenSource } | { problem: string } {
  const c = client as { _engineConfig?: { adapter?: unknown }; _engine?: { config?: { adapter?: unknown } } };
  const factories = [read(() => c._engineConfig?.adapter), read(() => c._engine?.config?.adapter)].filter(isPlainObject);
  if (factories.length === 0) {
    return { problem: 'cannot find the driver adapter of this PrismaClient (Prisma keeps it in private fields, which this Prisma version may have moved)' };
  }
  for (const factory of factories) {
    const name = read(() => factory['adapterName']);
    // Other PostgreSQL adapters (Neon, Prisma Postgres) talk over HTTP or WebSockets, or through a
    // pooler; their settings would not open a session that can hold LISTEN.
    if (typeof name === 'string' && name !== ADAPTER_PG) {
      return { problem: `the driver adapter is ${name}, whose connection settings Concordia does not reuse (only ${ADAPTER_PG}'s)` };
    }
    const pool = read(() => factory['externalPool']);
    if (isPoolLike(pool)) return { source: { kind: 'pool', pool } };
    const config = read(() => factory['config']);
    if (isPoolLike(config)) return { source: { kind: 'pool', pool: config } };
    if (typeof config === 'string' && config.length > 0) return { source: { kind: 'url', url: config } };
    if (isPlainObject(config)) return { source: { kind: 'config', config: config as PoolConfig } };
  }
  return { problem: `cannot find the connection settings of this PrismaClient's ${ADAPTER_PG} (Prisma keeps them in private fields, which this version may have moved)` };
}

/** The warning a worker logs when {@link driverListenSource} found nothing. */
export function noListenWarning(problem: string): string {
  return (
    `prismaAdapter: ${problem}, so workers notice new jobs only at their next poll (pollIntervalMs) instead of by NOTIFY. ` +
    'Pass the LISTEN settings explicitly: prismaAdapter(prisma, { listen: process.env.DATABASE_URL }) (a connection string or a pg.Pool), ' +
    'or { listen: false } to poll on purpose.'
  );
}

/** A new, not yet connected node-postgres client with `source`'s settings, outside any pool. */
export async function listenClient(source: ListenSource): Promise<PgListenClient> {
  if (source.kind === 'pool') return dedicatedClient(source.pool);
  // Loaded only when a worker listens: the Prisma adapter needs pg for nothing else.
  let pg: (typeof import('pg'))['default'];
  try {
    pg = (await import('pg')).default;
  } catch (error) {
    throw new Error('prismaAdapter: LISTEN needs the `pg` package (install it, or pass { listen: false } to poll).', { cause: error });
  }
  if (source.kind === 'url') return new pg.Client({ connectionString: source.url }) as unknown as PgListenClient;
  // Through a Pool that never connects, so the config means exactly what it means to PrismaPg
  // (which builds a pg.Pool from it), custom `Client` class included.
  return dedicatedClient(new pg.Pool(source.config));
}
