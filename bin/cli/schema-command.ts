/**
 * `concordia schema`: prints the canonical DDL of the jobs table.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertTableName } from '../../lib/validation.ts';
import { usage } from './exit-codes.ts';

const DBS = { postgres: 'postgres', postgresql: 'postgres', mysql: 'mysql', mariadb: 'mysql', sqlite: 'sqlite' } as const;

/** Finds `schema/` from the source tree (`bin/cli`) or the built package (`dist/bin/cli`). */
function schemaFile(dir: string): string {
  for (const up of ['../../schema/', '../../../schema/']) {
    const path = fileURLToPath(new URL(`${up}${dir}/0001_create_jobs.sql`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`schema/${dir}/0001_create_jobs.sql is missing from this installation.`);
}

/**
 * The DDL for `db`, with the table (and its index names) renamed when `table` is given.
 *
 * @example
 * ```sh
 * concordia schema --db postgres > migrations/001_concordia.sql
 * ```
 */
export function schemaCommand(options: { db: string | undefined; orm: string | undefined; table: string | undefined }): string {
  const orm = options.orm ?? 'sql';
  if (orm !== 'sql') {
    throw usage(`--orm ${orm} is not supported by the CLI yet: use --orm sql (the ORM artifacts are in the package's schema/ folder).`);
  }
  const db = DBS[(options.db ?? '') as keyof typeof DBS];
  if (!db) throw usage(`--db must be postgres, mysql or sqlite${options.db === undefined ? '' : ` (got "${options.db}")`}.`);
  const text = readFileSync(schemaFile(db), 'utf8');
  if (options.table === undefined || options.table === 'concordia_jobs') return text;
  const table = assertTableName(options.table);
  if (table.includes('.')) throw usage('--table: give the table name without a schema; qualify it in your migration tool.');
  // Index names carry the table name as a prefix, so they are renamed too.
  return text.replace(/concordia_jobs/g, table);
}
