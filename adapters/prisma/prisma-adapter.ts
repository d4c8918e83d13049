/**
 * Prisma 7 adapter (driver adapters @prisma/adapter-pg, @prisma/adapter-mariadb,
 * @prisma/adapter-better-sqlite3): enqueue inside `prisma.$transaction(async (tx) => …)`.
 *
 * Every statement goes through `$queryRawUnsafe` / `$executeRawUnsafe` of the client it is
 * given, so a job inserted through the transaction client commits or rolls back with your
 * writes. The generated model of schema/prisma/ is for your own queries; Concordia never needs it.
 *
 * @module concordia/prisma
 */
import type { Pool } from 'pg';
import { InvalidOptionError, NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { defineExecutor, toCount, type SqlAdapter, type DialectName, type Executor, type SqlParam, type SqlRow } from '../../lib/sql/executor.ts';
import { sqlDialect } from '../../lib/dialects/index.ts';
import { StatementNames } from '../../lib/sql/statement-names.ts';
import { listenOn } from '../pg/pg-listen.ts';
import { driverListenSource, isPoolLike, listenClient, noListenWarning, type ListenSource } from './prisma-listen.ts';

/**
 * What Concordia calls on a Prisma transaction client (`tx` in `prisma.$transaction(async (tx) => …)`).
 * Structural, so any generated client, with or without `$extends`, fits.
 */
export interface PrismaTransactionClient {
  // `any[]` mirrors Prisma's own signature, so generated clients are assignable.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  $queryRawUnsafe(query: string, ...values: any[]): PromiseLike<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  $executeRawUnsafe(query: string, ...values: any[]): PromiseLike<number>;
}

/** Options of the interactive transactions Concordia opens itself. */
export interface PrismaTransactionOptions {
  /** Longest wait for a connection, in ms (Prisma's default is 2,000). */
  maxWait?: number;
  /** Longest the transaction may stay open, in ms (Prisma's default is 5,000). */
  timeout?: number;
}

/** What Concordia calls on the root `PrismaClient`. */
export interface PrismaClientLike extends PrismaTransactionClient {
  $connect(): Promise<void>;
  $transaction<R>(fn: (tx: PrismaTransactionClient) => Promise<R>, options?: PrismaTransactionOptions): Promise<R>;
}

/** Options of {@link prismaAdapter}. */
export interface PrismaAdapterOptions {
  /**
   * The datasource provider of your schema. Detected from the client when omitted; set it when
   * detection fails (a future Prisma that renames its internals) or to make it explicit.
   */
  provider?: 'postgresql' | 'postgres' | 'mysql' | 'mariadb' | 'sqlite';
  /**
   * Limits of the dispatcher's own short transactions (only the MariaDB claim and batches of
   * more than 1,000 autocommitted jobs use one). Defaults: `maxWait` 5,000 ms, `timeout` 10,000 ms.
   */
  transaction?: PrismaTransactionOptions;
  /**
   * PostgreSQL: where workers LISTEN for enqueue notifications, so a new job starts within
   * milliseconds of its commit instead of at the next poll. Prisma cannot hold a LISTEN session,
   * so each worker opens one dedicated node-postgres connection of its own (outside Prisma's
   * pool, taking nothing from it).
   *
   * - omitted (default): the settings `@prisma/adapter-pg` was built with, read from the client:
   *   the `pg.Pool` you gave `PrismaPg`, or its pool config / connection string. If they cannot
   *   be found (another driver adapter, or a Prisma that moved its private fields), workers poll
   *   and log one warning when they start.
   * - a connection string, or a `pg.Pool` whose settings are copied: LISTEN there instead, e.g.
   *   a direct URL when the client goes through a pooler.
   * - `false`: never LISTEN; workers poll every `pollIntervalMs`. Use it behind PgBouncer in
   *   transaction mode, where LISTEN does not work, unless you pass a direct URL.
   *
   * Needs the `pg` package, which `@prisma/adapter-pg` already installs. MariaDB and SQLite
   * have no LISTEN: there only `false` (or nothing) is accepted.
   */
  listen?: string | Pool | false;
}

type SqlDialectName = Exclude<DialectName, 'memory'>;

function normaliseProvider(value: unknown): SqlDialectName | undefined {
  switch (typeof value === 'string' ? value.toLowerCase() : '') {
    case 'postgresql':
    case 'postgres':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    case 'sqlite':
      return 'sqlite';
    default:
      return undefined;
  }
}

/**
 * The places Prisma keeps the provider. All private, so several are read and the first that
 * answers wins: the generated client's `_activeProvider`, the same inside `_engineConfig`, and
 * the driver adapter's own `provider`.
 */
function detectProvider(client: object): { dialect?: SqlDialectName; seen: string[] } {
  const c = client as {
    _activeProvider?: unknown;
    _engineConfig?: { activeProvider?: unknown; adapter?: { provider?: unknown } };
  };
  const candidates = [c._activeProvider, c._engineConfig?.activeProvider, c._engineConfig?.adapter?.provider];
  const seen = candidates.filter((v) => v !== undefined).map(String);
  for (const value of candidates) {
    const dialect = normaliseProvider(value);
    if (dialect) return { dialect, seen };
  }
  return { seen };
}

function resolveDialect(client: object, explicit: PrismaAdapterOptions['provider']): SqlDialectName {
  const detected = detectProvider(client);
  if (explicit !== undefined) {
    const chosen = normaliseProvider(explicit);
    if (!chosen) throw new UnknownDialectError(`prismaAdapter: unsupported provider "${String(explicit)}" (supported: postgresql, mysql, sqlite).`);
    if (detected.dialect && detected.dialect !== chosen) {
      throw new InvalidOptionError(`prismaAdapter: options.provider is "${explicit}" but the client talks to ${detected.dialect}.`);
    }
    return chosen;
  }
  if (detected.dialect) return detected.dialect;
  throw new UnknownDialectError(
    `prismaAdapter: cannot tell which database this Prisma client talks to (found provider ${detected.seen.length ? detected.seen.map((s) => `"${s}"`).join(', ') : 'nothing'}). ` +
      'Supported: postgresql, mysql (MariaDB), sqlite. Pass it explicitly: prismaAdapter(prisma, { provider: "postgresql" }).',
  );
}

/** Clients whose "no LISTEN settings found" warning was already handed to a worker. */
const warnedClients = new WeakSet<object>();

/**
 * Where workers LISTEN, from the `listen` option: `false` never, a string or pool there, and
 * by default (PostgreSQL only) where the client's `@prisma/adapter-pg` connects, or nowhere
 * with a warning when that cannot be found.
 */
function resolveListen(prisma: object, dialect: SqlDialectName, value: unknown): { source?: ListenSource; warning?: string } {
  if (value === false) return {};
  if (dialect !== 'postgres') {
    if (value === undefined) return {};
    throw new InvalidOptionError(`prismaAdapter: \`listen\` is for PostgreSQL only (LISTEN/NOTIFY); this client talks to ${dialect}. Leave it out, or pass false.`);
  }
  if (value === undefined) {
    const found = driverListenSource(prisma);
    return 'source' in found ? { source: found.source } : { warning: noListenWarning(found.problem) };
  }
  if (typeof value === 'string' && value.length > 0) return { source: { kind: 'url', url: value } };
  if (isPoolLike(value)) return { source: { kind: 'pool', pool: value } };
  throw new InvalidOptionError('prismaAdapter: `listen` takes a PostgreSQL connection string, a pg.Pool, or false.');
}

/** Decimal.js values (MySQL arithmetic, NUMERIC columns) have these without being numbers. */
function isDecimalLike(value: object): boolean {
  return typeof (value as { toFixed?: unknown }).toFixed === 'function' && typeof (value as { d?: unknown }).d !== 'undefined';
}

/**
 * Prisma decodes raw results by column type: BIGINT and COUNT(*) become BigInt, DECIMAL a
 * Decimal.js object. The engine selects times as epoch ms and JSON as text already, so only
 * numbers need normalising: safe integers become numbers, larger ones decimal strings (ids
 * are compared as strings by the engine).
 */
function normaliseValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Array.isArray(value) && isDecimalLike(value)) {
    return String(value);
  }
  return value;
}

function normaliseRows(result: unknown): SqlRow[] {
  if (!Array.isArray(result)) return [];
  return result.map((row: SqlRow) => {
    const out: SqlRow = {};
    for (const key of Object.keys(row)) out[key] = normaliseValue(row[key]);
    return out;
  });
}

function executorFor(client: PrismaTransactionClient, dialect: SqlDialectName): Executor {
  return defineExecutor({
    dialect,
    // Prisma hands SQL to the driver untouched: PostgreSQL wants $1, MariaDB and SQLite want ?.
    placeholders: dialect === 'postgres' ? 'dollar' : 'question',
    query: async (sql: string, params: readonly SqlParam[]) => normaliseRows(await client.$queryRawUnsafe(sql, ...params)),
    execute: async (sql: string, params: readonly SqlParam[]) => toCount(await client.$executeRawUnsafe(sql, ...params)),
  });
}

/**
 * A `statementNameGenerator` for `@prisma/adapter-pg`: names each distinct SQL text (up to 500,
 * each at most 8,000 characters) so PostgreSQL parses and plans it once per connection instead
 * of on every call. Concordia's dispatcher runs the same few statements thousands of times,
 * and planning its claim costs about as much as running it, so this lifts the drain rate
 * through Prisma markedly (bench/RESULTS.md). It names your own queries too, which usually
 * helps them as well. Leave it out behind a pooler that cannot keep prepared statements across
 * transactions (PgBouncer in transaction mode before 1.21).
 *
 * @example
 * ```ts
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { prismaStatementNames } from 'concordia/prisma';
 * const prisma = new PrismaClient({
 *   adapter: new PrismaPg({ connectionString }, { statementNameGenerator: prismaStatementNames() }),
 * });
 * ```
 */
export function prismaStatementNames(): (query: { sql: string }) => string {
  const names = new StatementNames('concordia_prisma');
  // An empty name makes node-postgres send the statement unnamed.
  return (query) => names.nameOf(query.sql) ?? '';
}

/**
 * Creates the Prisma adapter. The dispatcher runs its statements on `prisma` itself, one
 * autocommitted statement each; enqueue takes the `tx` of an interactive transaction.
 * On PostgreSQL its workers LISTEN for new jobs, on a connection opened with the settings of
 * the client's `PrismaPg` unless {@link PrismaAdapterOptions.listen} says otherwise.
 *
 * The sequential form `prisma.$transaction([…])` is not supported: it takes Prisma queries,
 * not functions, and gives no transaction client to enqueue through. Use the interactive form.
 *
 * @param prisma your `PrismaClient`, built with a driver adapter (`PrismaPg`, `PrismaMariaDb`
 *   or `PrismaBetterSqlite3`).
 * @example
 * ```ts
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
 * const jobs = createJobs({ adapter: prismaAdapter(prisma), jobs: [sendEmail] });
 * await prisma.$transaction(async (tx) => {
 *   const order = await tx.order.create({ data: { total: 42 } });
 *   await jobs.enqueue(tx, sendEmail({ orderId: order.id }));
 * });
 * ```
 */
export function prismaAdapter(prisma: PrismaClientLike, options: PrismaAdapterOptions = {}): SqlAdapter<PrismaTransactionClient> {
  if (!prisma || typeof prisma.$transaction !== 'function' || typeof prisma.$queryRawUnsafe !== 'function') {
    throw new InvalidOptionError('prismaAdapter: pass your root PrismaClient (the one you call $transaction on).');
  }
  const dialect = resolveDialect(prisma, options.provider);
  const limits: PrismaTransactionOptions = { maxWait: 5_000, timeout: 10_000, ...options.transaction };
  const autocommit = executorFor(prisma, dialect);
  const { source: listenSource, warning } = resolveListen(prisma, dialect, options.listen);
  return {
    name: 'prisma',
    dialect,
    backend: (options) => sqlDialect(dialect, options),
    bind(tx) {
      const handle = tx as Partial<PrismaClientLike> | null | undefined;
      if (!handle || typeof handle.$queryRawUnsafe !== 'function' || typeof handle.$executeRawUnsafe !== 'function') {
        throw new NotInTransactionError(
          'prismaAdapter: enqueue() needs the `tx` client of prisma.$transaction(async (tx) => …); this is not a Prisma client.',
        );
      }
      // Prisma strips $connect/$disconnect from the client it hands an interactive transaction
      // (it keeps a $transaction that nests); on the root client a statement would autocommit.
      if (typeof handle.$connect === 'function') {
        throw new NotInTransactionError(
          'prismaAdapter: enqueue() got the root PrismaClient, whose statements autocommit on their own. ' +
            'Pass the `tx` argument of prisma.$transaction(async (tx) => { …; await jobs.enqueue(tx, job) }) instead ' +
            '(the array form prisma.$transaction([…]) has no such client and is not supported). ' +
            'Outside a transaction use jobs.enqueueAutocommit().',
        );
      }
      return executorFor(handle as PrismaTransactionClient, dialect);
    },
    userTransaction: (fn) => prisma.$transaction((tx) => fn(tx), options.transaction),
    ...(listenSource === undefined
      ? {}
      : { listen: async (channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void) => listenOn(await listenClient(listenSource), channel, onNotification, onError) }),
    ...(warning === undefined
      ? {}
      : {
          setupWarnings() {
            // Once per client, however many workers and adapters share it.
            if (warnedClients.has(prisma)) return [];
            warnedClients.add(prisma);
            return [warning];
          },
        }),
    autocommit: () => autocommit,
    // An interactive transaction holds a pooled connection until it ends, so the limits stay
    // short; SQLite has one connection in Prisma, whose writes are serialised anyway, so
    // `immediate` needs no special BEGIN here.
    transaction: (fn) => prisma.$transaction((tx) => fn(executorFor(tx, dialect)), limits),
  };
}
