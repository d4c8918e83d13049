/**
 * The SQL family of backends: one dialect per database owns every statement the engine runs
 * there. The engine calls the {@link Backend} operations and never writes SQL itself.
 *
 * @internal Not semver-stable: dialects may be reshaped between minor versions.
 */
import type { Backend, DispatcherAccess } from '../backend/backend.ts';
import type { DialectName, Executor } from '../sql/executor.ts';

export type { ClaimParams, FailParams, JobCount, ListedJob, ListJobsFilter, PruneParams, RetryResult } from '../backend/backend.ts';

/** A statement ready to run: SQL with `?` placeholders and its encoded parameters. */
export interface Statement {
  /** A stable dotted name for logs and tests, e.g. `claim.update`. */
  readonly name: string;
  readonly sql: string;
  readonly params: (string | number | null)[];
}

/** The dispatcher's access to a SQL database: autocommit statements and short transactions. */
export type DispatcherDb = DispatcherAccess<Executor>;

/**
 * A dialect: the SQL family's backend for one database. Its sessions are executors of SQL
 * text; the statements live in the dialect (sql-dialect.ts and one file per database).
 */
export interface Dialect extends Backend<Executor> {
  readonly name: DialectName;
  /**
   * The statement that opens (`begin`), releases or rolls back to a savepoint named `name` (a
   * plain identifier chosen by the engine).
   */
  savepointSql(action: 'begin' | 'release' | 'rollback', name: string): string;
}
