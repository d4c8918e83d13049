/**
 * A worker process for the chaos spec: serves one table until SIGTERM, and reports each job it
 * starts and completes on stdout (`ready <worker id>`, `started <id>`, `completed <id>`) so the
 * parent can act on real progress instead of timing.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { mysql2Adapter } from '../../adapters/mysql2/mysql2-adapter.ts';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { createJobs, defineJob, silentLogger, type Adapter } from '../../lib/index.ts';

const [db, table, target] = process.argv.slice(2) as ['postgres' | 'mysql' | 'sqlite', string, string];

let adapter: Adapter<unknown>;
let close: () => Promise<void>;
if (db === 'postgres') {
  const pool = new pg.Pool({ connectionString: target, max: 4 });
  adapter = pgAdapter(pool) as Adapter<unknown>;
  close = () => pool.end();
} else if (db === 'mysql') {
  const pool = mysql.createPool({ uri: target, connectionLimit: 4 });
  adapter = mysql2Adapter(pool) as Adapter<unknown>;
  close = () => pool.end();
} else {
  const conn = new Database(target, { timeout: 5000 });
  conn.pragma('journal_mode = WAL');
  adapter = betterSqlite3Adapter(conn) as Adapter<unknown>;
  close = async () => void conn.close();
}

const work = defineJob('chaos_work', {
  handler: async (args: { ms: number }, ctx) => {
    process.stdout.write(`started ${ctx.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, args.ms));
  },
});
const jobs = createJobs({ adapter, table, jobs: [work] });
const worker = jobs.createWorker({
  concurrency: 5,
  pollIntervalMs: 50,
  leaseMs: 1500,
  heartbeatMs: 300,
  rescueIntervalMs: 300,
  logger: silentLogger,
});
worker.on('job:completed', (e) => process.stdout.write(`completed ${e.job.id}\n`));
process.on('SIGTERM', () => {
  void worker.stop().then(close).then(() => process.exit(0));
});
await worker.start();
process.stdout.write(`ready ${worker.id}\n`);
