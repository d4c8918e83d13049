/**
 * Schema drift: every ORM-managed jobs table (Kysely migration, drizzle-kit SQL from the Drizzle
 * tables, Sequelize queryInterface migration and model sync, Knex migration) must match the
 * canonical DDL table in the database catalog: columns in order with type, nullability, default,
 * collation and auto-increment, plus the indexes with their columns. Any difference fails here.
 * The `down` of each migration 0003 must give back the table of the canonical 0001 + 0002.
 */
import knexFactory, { type Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { createConcordiaJobsTable as createWithKnex } from '../../schema/knex/0001_create_concordia_jobs.ts';
import { addConcordiaUniqueJobs as addUniqueWithKnex } from '../../schema/knex/0002_add_concordia_unique_jobs.ts';
import { replaceConcordiaLeaseIndex as replaceLeaseWithKnex, restoreConcordiaLeaseIndex as restoreLeaseWithKnex } from '../../schema/knex/0003_replace_concordia_lease_index.ts';
import { createConcordiaJobsTable as createWithKysely } from '../../schema/kysely/0001-create-concordia-jobs.ts';
import { addConcordiaUniqueJobs as addUniqueWithKysely } from '../../schema/kysely/0002-add-concordia-unique-jobs.ts';
import {
  replaceConcordiaLeaseIndex as replaceLeaseWithKysely,
  restoreConcordiaLeaseIndex as restoreLeaseWithKysely,
} from '../../schema/kysely/0003-replace-concordia-lease-index.ts';
import { defineConcordiaJobModel } from '../../schema/sequelize/concordia-job-model.ts';
import { createConcordiaJobsTable as createWithSequelize } from '../../schema/sequelize/0001-create-concordia-jobs.ts';
import { addConcordiaUniqueJobs as addUniqueWithSequelize } from '../../schema/sequelize/0002-add-concordia-unique-jobs.ts';
import {
  replaceConcordiaLeaseIndex as replaceLeaseWithSequelize,
  restoreConcordiaLeaseIndex as restoreLeaseWithSequelize,
} from '../../schema/sequelize/0003-replace-concordia-lease-index.ts';
import { concordiaJobsTable as mysqlJobs } from '../../schema/drizzle/mysql.ts';
import { concordiaJobsTable as pgJobs } from '../../schema/drizzle/pg.ts';
import { concordiaJobsTable as sqliteJobs } from '../../schema/drizzle/sqlite.ts';
import type { Executor } from '../../lib/sql/executor.ts';
import { ddl, isReachable, MYSQL_URL, PG_URL, tempSqlitePath, uniqueTable, type Db } from '../support/databases.ts';
import { createWithDrizzleKit, openDrizzle } from '../support/drizzle-harness.ts';
import { inspector } from '../support/harnesses.ts';
import { openKysely } from '../support/kysely-harness.ts';
import { openSequelize, sequelizeInspector } from '../support/sequelize-harness.ts';

type Snapshot = { columns: unknown[]; indexes: unknown[]; extra: unknown[] };

/** The catalog view of `table`, with the table name replaced by `T` wherever it leaks into names. */
async function snapshot(db: Db, ex: Executor, table: string): Promise<Snapshot> {
  const norm = <R>(rows: R[]): R[] => JSON.parse(JSON.stringify(rows).replaceAll(table, 'T')) as R[];
  if (db === 'postgres') {
    const columns = await ex.query(
      'SELECT column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length, datetime_precision ' +
        'FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
      [table],
    );
    const indexes = await ex.query('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? ORDER BY indexname', [table]);
    return { columns: norm(columns), indexes: norm(indexes), extra: [] };
  }
  if (db === 'mysql') {
    const columns = await ex.query(
      'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra, ' +
        'CHARACTER_SET_NAME AS charset, COLLATION_NAME AS coll FROM information_schema.columns ' +
        'WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ORDINAL_POSITION',
      [table],
    );
    const indexes = await ex.query(
      'SELECT INDEX_NAME AS name, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col, NON_UNIQUE AS non_unique FROM information_schema.statistics ' +
        'WHERE table_schema = DATABASE() AND table_name = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
      [table],
    );
    const extra = await ex.query('SELECT ENGINE AS engine FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [table]);
    return { columns: norm(columns), indexes: norm(indexes), extra };
  }
  // SQLite: an INTEGER PRIMARY KEY is the rowid and can never hold NULL, whether or not the
  // DDL says NOT NULL, so `notnull` is compared only for the other columns. Declared types are
  // compared case-insensitively (SQLite keeps them as written).
  const columns = (await ex.query('SELECT name, upper(type) AS type, "notnull" AS nn, dflt_value AS dflt, pk FROM pragma_table_info(?) ORDER BY cid', [table])).map(
    (c) => ({ ...c, nn: Number(c['pk']) > 0 ? 'pk' : c['nn'] }),
  );
  const list = await ex.query('SELECT name, "unique" AS uniq, origin FROM pragma_index_list(?) ORDER BY name', [table]);
  const indexes: unknown[] = [];
  for (const ix of list) {
    const cols = await ex.query('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [String(ix['name'])]);
    indexes.push({ ...ix, cols: cols.map((c) => c['name']) });
  }
  const sql = String((await ex.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]))[0]?.['sql'] ?? '');
  return { columns: norm(columns), indexes: norm(indexes), extra: [{ autoincrement: /autoincrement/i.test(sql) }] };
}

type Creator = (table: string, sqlitePath: string | undefined) => Promise<void>;

/** Which canonical migrations a creator's table must match: all of them, or those up to 0002. */
type Creators = Record<string, { dbs: Db[]; upTo?: number; create: (db: Db) => Creator }>;

function knexFor(db: Db, sqlitePath: string | undefined): Knex {
  if (db === 'postgres') return knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 2 } });
  if (db === 'mysql') return knexFactory({ client: 'mysql2', connection: MYSQL_URL, pool: { min: 0, max: 2 } });
  return knexFactory({ client: 'better-sqlite3', connection: { filename: sqlitePath! }, useNullAsDefault: true });
}

const creators: Creators = {
  'kysely migrations 0001 + 0002 + 0003': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    create: (db) => async (table, path) => {
      const k = openKysely(db, path);
      try {
        await createWithKysely(k, table);
        await addUniqueWithKysely(k, table);
        await replaceLeaseWithKysely(k, table);
      } finally {
        await k.destroy();
      }
    },
  },
  'drizzle-kit SQL from the Drizzle tables': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    create: (db) => async (table, path) => {
      const d = openDrizzle(db, path);
      const jobs = db === 'postgres' ? pgJobs(table) : db === 'mysql' ? mysqlJobs(table) : sqliteJobs(table);
      try {
        await createWithDrizzleKit(db, d.exec, { jobs });
      } finally {
        await d.close();
      }
    },
  },
  'sequelize queryInterface migrations 0001 + 0002 + 0003': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    create: (db) => async (table, path) => {
      const s = openSequelize(db, 'mariadb', path);
      try {
        await createWithSequelize(s.getQueryInterface(), table);
        await addUniqueWithSequelize(s.getQueryInterface(), table);
        await replaceLeaseWithSequelize(s.getQueryInterface(), table);
      } finally {
        await s.close();
      }
    },
  },
  'sequelize model sync()': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    create: (db) => async (table, path) => {
      const s = openSequelize(db, 'mariadb', path);
      try {
        await defineConcordiaJobModel(s, table).sync();
      } finally {
        await s.close();
      }
    },
  },
  'knex migrations 0001 + 0002 + 0003': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    create: (db) => async (table, path) => {
      const k = knexFor(db, path);
      try {
        await createWithKnex(k, table);
        await addUniqueWithKnex(k, table);
        await replaceLeaseWithKnex(k, table);
      } finally {
        await k.destroy();
      }
    },
  },
  // Each 0003 `down` must give back the table of 0001 + 0002 (the lease index, no state index).
  'kysely migration 0003 down': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    upTo: 2,
    create: (db) => async (table, path) => {
      const k = openKysely(db, path);
      try {
        await createWithKysely(k, table);
        await addUniqueWithKysely(k, table);
        await replaceLeaseWithKysely(k, table);
        await restoreLeaseWithKysely(k, table);
      } finally {
        await k.destroy();
      }
    },
  },
  'sequelize queryInterface migration 0003 down': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    upTo: 2,
    create: (db) => async (table, path) => {
      const s = openSequelize(db, 'mariadb', path);
      try {
        await createWithSequelize(s.getQueryInterface(), table);
        await addUniqueWithSequelize(s.getQueryInterface(), table);
        await replaceLeaseWithSequelize(s.getQueryInterface(), table);
        await restoreLeaseWithSequelize(s.getQueryInterface(), table);
      } finally {
        await s.close();
      }
    },
  },
  'knex migration 0003 down': {
    dbs: ['postgres', 'mysql', 'sqlite'],
    upTo: 2,
    create: (db) => async (table, path) => {
      const k = knexFor(db, path);
      try {
        await createWithKnex(k, table);
        await addUniqueWithKnex(k, table);
        await replaceLeaseWithKnex(k, table);
        await restoreLeaseWithKnex(k, table);
      } finally {
        await k.destroy();
      }
    },
  },
};

for (const db of ['postgres', 'mysql', 'sqlite'] as const) {
  describe(`schema drift on ${db}: ORM-created tables match the canonical DDL`, () => {
    const sqlitePath = db === 'sqlite' ? tempSqlitePath() : undefined;
    let ins: ReturnType<typeof inspector> | undefined;
    const dropped: string[] = [];
    const open = () => (ins ??= inspector(db, sqlitePath));
    afterAll(async () => {
      if (!ins) return;
      for (const t of dropped) await ins.ex.execute(`DROP TABLE IF EXISTS ${db === 'mysql' ? `\`${t}\`` : `"${t}"`}`, []);
      await ins.close();
    });

    for (const [label, c] of Object.entries(creators)) {
      it.skipIf(!c.dbs.includes(db))(label, async (ctx) => {
        if (!(await isReachable(db))) return ctx.skip();
        // Sequelize reaches SQLite through sqlite3, a second SQLite library: it gets a file of
        // its own and is inspected through sqlite3 too (two libraries on one file break each
        // other's POSIX locks).
        const own = db === 'sqlite' && label.startsWith('sequelize') ? tempSqlitePath() : undefined;
        const side = own ? sequelizeInspector(own) : undefined;
        const ex = side ? side.ex : open().ex;
        const canonical = uniqueTable('canon');
        const orm = uniqueTable('orm');
        dropped.push(canonical, orm);
        for (const stmt of ddl(db, canonical, c.upTo)) await ex.execute(stmt, []);
        await c.create(db)(orm, own ?? sqlitePath);
        const want = await snapshot(db, ex, canonical);
        const got = await snapshot(db, ex, orm);
        await side?.close();
        expect(want.columns).toHaveLength(19);
        expect(got).toEqual(want);
      });
    }
  });
}
