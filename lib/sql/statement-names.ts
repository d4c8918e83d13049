/**
 * Names for PostgreSQL prepared statements.
 *
 * node-postgres sends a query with a `name` as a prepared statement: the server parses and
 * plans it once per connection and afterwards only binds and executes it. The dispatcher runs
 * the same few statement texts thousands of times (claim, complete, heartbeat), and planning the
 * claim costs about as much as executing it, so naming them lifted the default drain by about
 * half (bench/README.md, "Engine findings").
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import { defineExecutor, type Executor, type SqlParam, type SqlRow } from './executor.ts';

/** How many distinct texts get a name; past it, new texts run unnamed (the engine uses a few dozen). */
export const MAX_NAMED_STATEMENTS = 500;

/**
 * Longer texts run unnamed: they are multi-row inserts whose text changes with the row count,
 * so a plan kept for them would rarely be used again.
 */
export const MAX_NAMED_LENGTH = 8_000;

/**
 * Hands out a name per statement text, derived from a hash of the text, up to
 * {@link MAX_NAMED_STATEMENTS} texts. node-postgres refuses a name that one connection already
 * prepared for a different text ("Prepared statements must be unique"); a name taken from the
 * text itself can only ever mean that text, so any number of adapters (two tables over one
 * pool, say) can share a pool's connections.
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #prefix: string;

  constructor(prefix = 'concordia') {
    this.#prefix = prefix;
  }

  /** The name for `sql`, or undefined when it should run unnamed (too long, or the cap is reached). */
  nameOf(sql: string): string | undefined {
    let name = this.#names.get(sql);
    if (name === undefined && this.#names.size < MAX_NAMED_STATEMENTS && sql.length <= MAX_NAMED_LENGTH) {
      // 120 bits of SHA-256: a collision between two of a few hundred texts is out of reach.
      // The name stays well under PostgreSQL's 63-byte identifier limit.
      name = `${this.#prefix}_${createHash('sha256').update(sql).digest('base64url').slice(0, 20)}`;
      this.#names.set(sql, name);
    }
    return name;
  }
}

/** One query as node-postgres takes it: unnamed when `name` is absent. */
export interface PgQueryConfig {
  name?: string;
  text: string;
  values: SqlParam[];
}

/**
 * An executor over a node-postgres `query(config)` that names every statement it can, so each
 * is prepared once per connection. `send` runs one query on a connection of the caller's choice
 * (a pool, or a connection borrowed from an ORM's pool). Used by the dispatcher only: statements
 * in the application's transactions are never named by Concordia.
 */
export function preparingPgExecutor(send: (query: PgQueryConfig) => Promise<{ rows: SqlRow[]; rowCount: number | null }>): Executor {
  const names = new StatementNames();
  const run = (sql: string, params: readonly SqlParam[]): Promise<{ rows: SqlRow[]; rowCount: number | null }> => {
    const name = names.nameOf(sql);
    // node-postgres only reads `values`; the cast spares a copy per statement.
    const values = params as SqlParam[];
    return send(name === undefined ? { text: sql, values } : { name, text: sql, values });
  };
  return defineExecutor({
    dialect: 'postgres',
    placeholders: 'dollar',
    query: async (sql, params) => (await run(sql, params)).rows,
    execute: async (sql, params) => (await run(sql, params)).rowCount ?? 0,
  });
}
