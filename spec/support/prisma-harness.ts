/**
 * Prisma 7 test support: generates a Prisma client from our schema fragment (offline), opens
 * clients on the three databases through their driver adapters, and builds the conformance
 * harness for the Prisma adapter.
 *
 * Generation: `prisma generate` only needs the bundled schema wasm, but the CLI refuses to start
 * unless it can resolve the native schema engine, which it would download. Pointing
 * PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies that check; migrate/db push would
 * need the real engine, so tables are created with our own DDL instead.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaPg } from '@prisma/adapter-pg';
import { prismaAdapter, prismaStatementNames, type PrismaClientLike, type PrismaTransactionClient } from '../../adapters/prisma/prisma-adapter.ts';
import { inspector } from './harnesses.ts';
import { MYSQL_URL, PG_URL, ddl, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';

/** Prisma's datasource provider names. */
export type PrismaProvider = 'postgresql' | 'mysql' | 'sqlite';

export const providerOf: Record<Db, PrismaProvider> = { postgres: 'postgresql', mysql: 'mysql', sqlite: 'sqlite' };

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** The fragment users copy, exactly as shipped. */
export function fragmentPath(provider: PrismaProvider): string {
  return join(root, 'schema', 'prisma', provider, 'concordia.prisma');
}

/** A business table next to the jobs table, so tests can write both in one transaction. */
const orderModel = `
model Order {
  id   Int    @id
  note String

  @@map("orders")
}
`;

/**
 * The whole test schema as a user would have it after pasting the fragment into one
 * schema.prisma: generator, datasource, their models, our model.
 */
export function singleFileSchema(provider: PrismaProvider): string {
  return [
    'generator client {\n  provider = "prisma-client"\n  output   = "./client"\n}\n',
    `datasource db {\n  provider = "${provider}"\n}\n`,
    orderModel,
    readFileSync(fragmentPath(provider), 'utf8'),
  ].join('\n');
}

const run = promisify(execFile);

/**
 * Runs `prisma generate` offline on a schema file or folder. Uses the Node running the tests
 * (the CLI's shebang would pick whatever `node` is first on PATH).
 */
export async function prismaGenerate(schemaPath: string, cwd: string): Promise<void> {
  const cli = join(require.resolve('prisma/package.json'), '..', 'build', 'index.js');
  await run(process.execPath, [cli, 'generate', '--schema', schemaPath], {
    cwd,
    env: {
      ...process.env,
      // Any existing file: generate never runs the schema engine, it only checks it resolves.
      PRISMA_SCHEMA_ENGINE_BINARY: process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ?? '/bin/false',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
}

/**
 * Generates (once) a client from `files` (paths relative to a fresh folder) and returns the
 * absolute path of `entry` inside it. The folder is named after a hash of the files and the
 * CLI version, so changed schema text regenerates and unchanged text costs nothing. Test files
 * run in parallel processes: each generates into its own staging folder and renames it into
 * place, so none ever sees a half-written client.
 */
export async function ensureGenerated(key: string, files: Record<string, string>, schema: string, entry: string): Promise<string> {
  const version = (JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')) as { version: string }).version;
  const h = createHash('sha256').update(version);
  for (const name of Object.keys(files).sort()) h.update(`\0${name}\0${files[name]!}`);
  const dir = join(root, '.tmp', 'prisma', `${key}-${h.digest('hex').slice(0, 12)}`);
  const target = join(dir, entry);
  if (existsSync(target)) return target;
  const staging = `${dir}.staging-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(staging, name, '..'), { recursive: true });
      writeFileSync(join(staging, name), text);
    }
    await prismaGenerate(join(staging, schema), staging);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another test file won the race with an identical client.
      if (!existsSync(target)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** Generates (once) the client of {@link singleFileSchema}; returns its entry module. */
export function ensurePrismaClient(provider: PrismaProvider): Promise<string> {
  return ensureGenerated(provider, { 'schema.prisma': singleFileSchema(provider) }, 'schema.prisma', 'client/client.ts');
}

/** The subset of a generated client the tests use; the generated module is loaded at run time. */
export interface TestPrismaClient extends PrismaClientLike {
  $disconnect(): Promise<void>;
  $transaction: PrismaClientLike['$transaction'] & (<T extends readonly unknown[]>(ops: T) => Promise<unknown[]>);
  concordiaJob: ModelDelegate;
  order: ModelDelegate;
}

/** What the tests call on a generated model (typed loosely: the client is generated at run time). */
export interface ModelDelegate {
  create(args: { data: Record<string, unknown> }): Promise<Record<string, unknown>>;
  findUnique(args: { where: Record<string, unknown> }): Promise<Record<string, unknown> | null>;
  findMany(args?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  update(args: { where: Record<string, unknown>; data: Record<string, unknown> }): Promise<Record<string, unknown>>;
  count(args?: Record<string, unknown>): Promise<number>;
}

/** A transaction client of {@link TestPrismaClient}. */
export type TestPrismaTx = PrismaTransactionClient & { order: ModelDelegate; concordiaJob: ModelDelegate };

/** Where a Prisma client points: the default test database, or a namespace of its own. */
export interface PrismaTarget {
  db: Db;
  /** PostgreSQL schema or MariaDB database; omitted for the default one. */
  namespace?: string;
  /** SQLite file. */
  sqlitePath?: string;
  /** Pool size of the driver adapter. */
  connections?: number;
  /** PostgreSQL: pass {@link prismaStatementNames} to the driver adapter. */
  statementNames?: boolean;
  /** PostgreSQL: give the driver adapter a `pg.Pool` of our own instead of its config (ended on `$disconnect`). */
  externalPool?: boolean;
}

/** Opens a generated client on `target` through the provider's driver adapter. */
export async function openPrismaClient(target: PrismaTarget): Promise<TestPrismaClient> {
  const entry = await ensurePrismaClient(providerOf[target.db]);
  const mod = (await import(pathToFileURL(entry).href)) as { PrismaClient: new (options: { adapter: unknown }) => TestPrismaClient };
  const max = target.connections ?? 10;
  let adapter: unknown;
  if (target.db === 'postgres') {
    // The schema option qualifies Prisma's own queries; search_path serves the raw ones.
    const config: pg.PoolConfig = { connectionString: PG_URL, max };
    if (target.namespace) config.options = `-c search_path=${target.namespace}`;
    adapter = new PrismaPg(target.externalPool ? new pg.Pool(config) : config, {
      ...(target.externalPool ? { disposeExternalPool: true } : {}),
      ...(target.namespace ? { schema: target.namespace } : {}),
      ...(target.statementNames ? { statementNameGenerator: prismaStatementNames() } : {}),
    });
  } else if (target.db === 'mysql') {
    const url = new URL(MYSQL_URL);
    adapter = new PrismaMariaDb({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: target.namespace ?? url.pathname.slice(1),
      connectionLimit: max,
    });
  } else {
    adapter = new PrismaBetterSqlite3({ url: `file:${target.sqlitePath!}`, timeout: 5000 });
  }
  return new mod.PrismaClient({ adapter });
}

/**
 * A namespace of its own with the canonical jobs table (named `concordia_jobs`, as the fragment
 * maps it) and an `orders` table, so tests that use the generated models never share a table
 * with other test files. `drop()` removes it.
 */
export async function createPrismaNamespace(db: Db): Promise<{ target: PrismaTarget; drop(): Promise<void> }> {
  const name = uniqueTable('cjp');
  const tables = [...ddl(db, 'concordia_jobs'), 'CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT NOT NULL)'];
  if (db === 'postgres') {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${name}`);
    await client.query(`SET search_path = ${name}`);
    for (const stmt of tables) await client.query(stmt);
    await client.end();
    return {
      target: { db, namespace: name },
      async drop() {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
        await c.end();
      },
    };
  }
  if (db === 'mysql') {
    const conn = await mysql.createConnection({ uri: MYSQL_URL });
    await conn.query(`CREATE DATABASE ${name}`);
    await conn.query(`USE ${name}`);
    for (const stmt of tables) await conn.query(stmt.replace('note TEXT', 'note VARCHAR(191)'));
    await conn.end();
    return {
      target: { db, namespace: name },
      async drop() {
        const c = await mysql.createConnection({ uri: MYSQL_URL });
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        await c.end();
      },
    };
  }
  const path = tempSqlitePath();
  const file = new Database(path);
  file.pragma('journal_mode = WAL');
  for (const stmt of tables) file.exec(stmt);
  file.close();
  return { target: { db, sqlitePath: path }, drop: async () => rmSync(join(path, '..'), { recursive: true, force: true }) };
}

/**
 * The conformance harness of the Prisma adapter. The engine runs on a per-file table of the
 * default test database; the generated models are not involved (that is the drift spec's job).
 */
export async function prismaHarness(db: Db): Promise<Harness<PrismaTransactionClient>> {
  const table = uniqueTable();
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  if (sqlitePath) {
    // WAL lets the inspector read while Prisma's connection holds a write transaction.
    const file = new Database(sqlitePath);
    file.pragma('journal_mode = WAL');
    file.close();
  }
  const prisma = await openPrismaClient(sqlitePath ? { db, sqlitePath } : { db });
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  await view.setup();
  const insertOrder = db === 'postgres' ? view.insertOrderSql.replace('?', '$1') : view.insertOrderSql;
  return {
    name: `prisma/${db}`,
    db,
    // Defaults: on PostgreSQL workers LISTEN with the settings of the client's PrismaPg, so the
    // suite's NOTIFY tests run here too.
    adapter: prismaAdapter(prisma),
    table,
    // The suite enqueues 5,000 jobs in one transaction: more than Prisma's default 5 s budget
    // allows on a busy machine.
    inTransaction: (fn) => prisma.$transaction((tx) => fn(tx), { timeout: 60_000, maxWait: 10_000 }),
    insertOrder: async (tx, id) => void (await tx.$executeRawUnsafe(insertOrder, id)),
    notInTransaction: () => prisma,
    ...inspectedMembers(view, ins, () => prisma.$disconnect()),
  };
}
