/**
 * Reads a table's shape from the database catalog (columns, types, nullability, defaults,
 * collations, indexes), with the table name replaced by `T`, so a table an ORM created can be
 * compared with one created from the canonical DDL. Shared by the TypeORM and MikroORM drift specs.
 */
import type { Executor } from '../../lib/sql/executor.ts';
import type { Db } from '../support/databases.ts';

export interface TableShape {
  columns: Record<string, unknown>[];
  indexes: string[];
  extra: Record<string, unknown>;
}

function anonymize(text: unknown, table: string): string {
  return String(text ?? '').split(table).join('T');
}

/** The catalog view of `table` on `db`. */
export async function describeTable(db: Db, ex: Executor, table: string): Promise<TableShape> {
  if (db === 'postgres') {
    const columns = await ex.query(
      `SELECT column_name, ordinal_position, data_type, udt_name, character_maximum_length, datetime_precision, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
      [table],
    );
    const indexes = await ex.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? ORDER BY indexname`, [table]);
    return {
      columns: columns.map((c) => ({ ...c, column_default: c['column_default'] === null ? null : anonymize(c['column_default'], table) })),
      indexes: indexes.map((i) => anonymize(i['indexdef'], table)),
      extra: {},
    };
  }
  if (db === 'mysql') {
    const columns = await ex.query(
      `SELECT COLUMN_NAME AS name, ORDINAL_POSITION AS pos, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt,
              COLLATION_NAME AS collation, EXTRA AS extra
         FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ORDINAL_POSITION`,
      [table],
    );
    const indexes = await ex.query(
      `SELECT INDEX_NAME AS name, NON_UNIQUE AS non_unique, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS cols
         FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? GROUP BY INDEX_NAME, NON_UNIQUE ORDER BY INDEX_NAME`,
      [table],
    );
    const [engine] = await ex.query(`SELECT ENGINE AS engine FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`, [table]);
    return {
      columns: columns.map((c) => ({ ...c, pos: Number(c['pos']) })),
      indexes: indexes.map((i) => `${anonymize(i['name'], table)} ${Number(i['non_unique']) ? '' : 'UNIQUE '}(${String(i['cols'])})`),
      extra: { engine: engine?.['engine'] },
    };
  }
  const columns = await ex.query(`SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, [table]);
  const indexList = await ex.query(`SELECT name, "unique" FROM pragma_index_list(?) ORDER BY name`, [table]);
  const indexes: string[] = [];
  for (const i of indexList) {
    const cols = await ex.query(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [String(i['name'])]);
    indexes.push(`${anonymize(i['name'], table)} ${Number(i['unique']) ? 'UNIQUE ' : ''}(${cols.map((c) => String(c['name'])).join(',')})`);
  }
  const [master] = await ex.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, [table]);
  return {
    columns: columns.map((c) => ({
      name: c['name'],
      type: String(c['type']).toUpperCase(),
      // An INTEGER PRIMARY KEY is the rowid and can never hold NULL, whether or not NOT NULL is written.
      notnull: Number(c['pk']) > 0 ? 1 : Number(c['notnull']),
      // SQLite keeps the default's text as written: `('default')` and `'default'` are the same value.
      dflt: c['dflt_value'] === null ? null : String(c['dflt_value']).replace(/^\((.*)\)$/, '$1'),
      pk: Number(c['pk']),
    })),
    indexes,
    // AUTOINCREMENT never reuses the id of a deleted row; the catalog only shows it in the table's SQL.
    extra: { autoincrement: /AUTOINCREMENT/i.test(String(master?.['sql'] ?? '')) },
  };
}
