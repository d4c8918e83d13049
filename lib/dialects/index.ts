/**
 * Picks the SQL dialect for a database: what a SQL adapter's `backend()` returns.
 *
 * @internal
 */
import type { BackendOptions } from '../backend/backend.ts';
import type { DialectName } from '../sql/executor.ts';
import type { Dialect } from './dialect.ts';
import { MysqlDialect } from './mysql-dialect.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import { SqliteDialect } from './sqlite-dialect.ts';

export function sqlDialect(name: DialectName, options: BackendOptions): Dialect {
  switch (name) {
    case 'postgres':
      return new PostgresDialect(options.table, options.notify === undefined ? {} : { notify: options.notify });
    case 'mysql':
      return new MysqlDialect(options.table);
    case 'sqlite':
      return new SqliteDialect(options.table);
  }
}
