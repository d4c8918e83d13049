/**
 * Kysely harness: the jobs table is created by Concordia's Kysely migration (not the canonical
 * SQL), so the conformance suite also proves that migration produces a working table.
 */
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { kyselyAdapter } from '../../adapters/kysely/kysely-adapter.ts';
import { createConcordiaJobsTable, dropConcordiaJobsTable } from '../../schema/kysely/0001-create-concordia-jobs.ts';
import { addConcordiaUniqueJobs } from '../../schema/kysely/0002-add-concordia-unique-jobs.ts';
import { replaceConcordiaLeaseIndex } from '../../schema/kysely/0003-replace-concordia-lease-index.ts';
import { MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from './databases.ts';
import { sqlInspection, type Harness, inspectedMembers } from './harness.ts';
import { inspector } from './harnesses.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables are created at run time under random names.
export type AnyKysely = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above.
export type AnyTransaction = Transaction<any>;

/** A Kysely instance on `db` (a fresh SQLite file when `sqlitePath` is given). */
export function openKysely(db: Db, sqlitePath?: string, onPgPool?: (pool: pg.Pool) => void): AnyKysely {
  if (db === 'postgres') {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
    onPgPool?.(pool);
    return new Kysely({ dialect: new PostgresDialect({ pool }) });
  }
  if (db === 'mysql') return new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: MYSQL_URL, connectionLimit: 10 }) }) });
  return new Kysely({
    dialect: new SqliteDialect({
      database: async () => {
        const conn = new Database(sqlitePath!, { timeout: 5000 });
        conn.pragma('journal_mode = WAL');
        return conn;
      },
    }),
  });
}

/** `onPgPool` sees the pg pool before Kysely does (PostgreSQL only), as a user's own setup would. */
export async function kyselyHarness(
  db: Db,
  onPgPool?: (pool: pg.Pool) => void,
): Promise<Harness<AnyTransaction> & { kysely: AnyKysely; sqlitePath: string | undefined }> {
  const table = uniqueTable('ky');
  const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
  const kysely = openKysely(db, sqlitePath, onPgPool);
  await createConcordiaJobsTable(kysely, table);
  await addConcordiaUniqueJobs(kysely, table);
  await replaceConcordiaLeaseIndex(kysely, table);
  const orders = `${table}_orders`;
  await kysely.schema.createTable(orders).addColumn('id', 'integer', (c) => c.primaryKey()).execute();
  const ins = inspector(db, sqlitePath);
  const view = sqlInspection(db, table, ins.ex);
  return {
    name: `kysely/${db}`,
    db,
    adapter: kyselyAdapter(kysely),
    table,
    kysely,
    sqlitePath,
    inTransaction: (fn) => kysely.transaction().execute((trx) => fn(trx)),
    insertOrder: async (trx, id) => void (await trx.insertInto(orders).values({ id }).execute()),
    notInTransaction: () => kysely,
    ...inspectedMembers(view, ins, () => kysely.destroy(), async () => {
      await dropConcordiaJobsTable(kysely, table);
      await kysely.schema.dropTable(orders).ifExists().execute();
    }),
  };
}
