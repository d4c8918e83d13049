/**
 * Picks the dialect for a database.
 *
 * @internal
 */
import type { DialectName } from '../sql/executor.ts';
import type { Dialect } from './dialect.ts';
import { MemoryDialect } from './memory-dialect.ts';
import { MysqlDialect } from './mysql-dialect.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import { SqliteDialect } from './sqlite-dialect.ts';

export function dialectFor(name: DialectName, table: string, options: { notify?: boolean } = {}): Dialect {
  switch (name) {
    case 'postgres':
      return new PostgresDialect(table, options);
    case 'mysql':
      return new MysqlDialect(table);
    case 'sqlite':
      return new SqliteDialect(table);
    case 'memory':
      return new MemoryDialect();
  }
}
