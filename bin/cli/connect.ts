/**
 * Turns `--url` / `DATABASE_URL` into an adapter, loading only the driver that URL needs (the
 * drivers are optional peer dependencies).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import type { Adapter } from '../../lib/sql/executor.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';
import { connectDynamodb, isDynamodbUrl } from './connect-dynamodb.ts';

/** An adapter on its own connection pool, and how to close it. */
export interface Connection {
  adapter: Adapter<unknown>;
  /** The URL with any password masked, for messages. */
  display: string;
  /** The jobs table the URL names (`dynamodb://…?table=`, `firestore://…?collection=`), used when `--table` is not given. */
  table?: string;
  close(): Promise<void>;
}

function mask(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw new CliError('DRIVER_MISSING', EXIT.database, `The "${name}" driver is not installed: npm install ${name}`, { cause: error });
  }
}

/**
 * Opens a connection for `url`: `postgres://` / `postgresql://` via pg, `mysql://` /
 * `mariadb://` via mysql2, `redis://` / `rediss://` via ioredis (`--table` names the key
 * prefix), `dynamodb://host:port?region=…&table=…` (connect-dynamodb.ts), `firestore://<project>?emulator=host:port`
 * (connect-firestore.ts), anything else (optionally `sqlite:` / `file:` prefixed) as a SQLite
 * file via better-sqlite3. The SQLite file must exist: a typo must not create an empty database.
 */
export async function connect(url: string | undefined): Promise<Connection> {
  if (!url) throw usage('No database given: pass --url <url> or set DATABASE_URL (postgres://…, mysql://…, redis://…, or a SQLite file path).');
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const pg = (await load('pg', () => import('pg'))).default;
    const { pgAdapter } = await import('../../adapters/pg/pg-adapter.ts');
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    // An idle client's network error must surface as a failed command, not an unhandled event.
    pool.on('error', () => {});
    return { adapter: pgAdapter(pool) as Adapter<unknown>, display: mask(url), close: () => pool.end() };
  }
  if (/^(mysql|mariadb):\/\//i.test(url)) {
    const mysql = (await load('mysql2', () => import('mysql2/promise'))).default;
    const { mysql2Adapter } = await import('../../adapters/mysql2/mysql2-adapter.ts');
    const pool = mysql.createPool({ uri: url.replace(/^mariadb:/i, 'mysql:'), connectionLimit: 2, connectTimeout: 5000 });
    return { adapter: mysql2Adapter(pool) as Adapter<unknown>, display: mask(url), close: () => pool.end() };
  }
  if (/^rediss?:\/\//i.test(url)) {
    const { Redis } = await load('ioredis', () => import('ioredis'));
    const { ioredisAdapter } = await import('../../adapters/ioredis/ioredis-adapter.ts');
    // No retries and no offline queue: an unreachable server is one clear error, not a hang.
    const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false });
    redis.on('error', () => {});
    await redis.connect();
    // An operator's command is not a worker: persistence warnings are the worker's to log.
    return { adapter: ioredisAdapter(redis, { durability: 'ignore' }) as unknown as Adapter<unknown>, display: mask(url), close: async () => void (await redis.quit().catch(() => redis.disconnect())) };
  }
  if (isDynamodbUrl(url)) return connectDynamodb(url);
  if (/^firestore:\/\//i.test(url)) return (await import('./connect-firestore.ts')).connectFirestore(url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^(sqlite|file):/i.test(url)) {
    throw usage(`Unsupported database URL scheme in ${mask(url)}: use postgres://, mysql:// (MariaDB), redis:// (rediss:// with TLS), dynamodb://host:port?region=…&table=…, firestore://<project> or a SQLite file path.`);
  }
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (!existsSync(path)) throw new CliError('DATABASE', EXIT.database, `SQLite file not found: ${path}`);
  const Database = (await load('better-sqlite3', () => import('better-sqlite3'))).default;
  const { betterSqlite3Adapter } = await import('../../adapters/better-sqlite3/better-sqlite3-adapter.ts');
  const db = new Database(path, { fileMustExist: true, timeout: 5000 });
  return { adapter: betterSqlite3Adapter(db) as Adapter<unknown>, display: path, close: async () => void db.close() };
}
