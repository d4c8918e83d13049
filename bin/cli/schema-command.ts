/**
 * `concordia schema`: prints the canonical DDL of the jobs table.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTableName } from '../../lib/validation.ts';
import { usage } from './exit-codes.ts';

const DBS = { postgres: 'postgres', postgresql: 'postgres', mysql: 'mysql', mariadb: 'mysql', sqlite: 'sqlite' } as const;

/** The database a `--db` value names, or undefined (own keys only, so `constructor` names none). */
function dbOf(name: string): (typeof DBS)[keyof typeof DBS] | undefined {
  return Object.hasOwn(DBS, name) ? DBS[name as keyof typeof DBS] : undefined;
}

/**
 * Every numbered migration of `dir` (`0001_create_jobs.sql`, `0002_unique_jobs.sql`, …) in order,
 * from the source tree (`bin/cli`) or the built package (`dist/bin/cli`).
 */
function schemaFiles(dir: string): string[] {
  for (const up of ['../../schema/', '../../../schema/']) {
    const folder = fileURLToPath(new URL(`${up}${dir}/`, import.meta.url));
    if (!existsSync(join(folder, '0001_create_jobs.sql'))) continue;
    return readdirSync(folder)
      .filter((f) => /^\d{4}_.*\.sql$/.test(f))
      .sort()
      .map((f) => join(folder, f));
  }
  throw new Error(`schema/${dir}/0001_create_jobs.sql is missing from this installation.`);
}

/**
 * The DDL for `db` (every numbered migration, in order), with the table (and its index names) renamed when `table` is given.
 *
 * @example
 * ```sh
 * concordia schema --db postgres > migrations/001_concordia.sql
 * ```
 */
export function schemaCommand(options: { db: string | undefined; orm: string | undefined; table: string | undefined }): string {
  const orm = options.orm ?? 'sql';
  if (orm !== 'sql') return ormArtifact(orm, options);
  const db = dbOf(options.db ?? '');
  if (!db) throw usage(`--db must be postgres, mysql or sqlite${options.db === undefined ? '' : ` (got "${options.db.slice(0, 40)}")`}.`);
  // The migrations concatenated in order: a fresh table gets every column the engine checks for.
  const text = schemaFiles(db)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  if (options.table === undefined || options.table === 'concordia_jobs') return text;
  const table = assertTableName(options.table);
  if (table.includes('.')) throw usage('--table: give the table name without a schema; qualify it in your migration tool.');
  // Index names carry the table name as a prefix, so they are renamed too.
  return text.replace(/concordia_jobs/g, table);
}

// --- ORM artifacts (`--orm prisma|typeorm|…`): the files of schema/<orm>/, each under a comment
// line naming it and where it goes in a project.

/** The folder of each ORM and, for the ORMs that have one artifact per database, its name per database. */
interface OrmArtifacts {
  /** Picks the files of `schema/<folder>/` to print (file names, sorted by the caller). */
  select(db: 'postgres' | 'mysql' | 'sqlite' | undefined): { dir: string; files: (name: string) => boolean } | null;
  /** Where the file goes, for the comment line. */
  where: string;
}

const ORMS: Record<string, OrmArtifacts> = {
  prisma: {
    select: (db) => (db ? { dir: `prisma/${db === 'postgres' ? 'postgresql' : db}`, files: (f) => f.endsWith('.prisma') } : null),
    where: 'paste the model into schema.prisma (or save this file in your multi-file prisma/schema/ folder), then run prisma migrate dev',
  },
  drizzle: {
    select: (db) => (db ? { dir: 'drizzle', files: (f) => f === `${db === 'postgres' ? 'pg' : db}.ts` } : null),
    where: 'export it from the schema file your drizzle.config.ts points at, then run drizzle-kit generate (or push)',
  },
  typeorm: {
    select: () => ({ dir: 'typeorm', files: (f) => f.endsWith('.entity.ts') }),
    where: "save it with your entities, list it in your DataSource's `entities`, then generate a migration (or synchronize)",
  },
  'mikro-orm': {
    select: () => ({ dir: 'mikro-orm', files: (f) => f.endsWith('.entity.ts') }),
    where: "save it with your entities, list it in MikroORM's `entities`, then run migration:create (or the SchemaGenerator)",
  },
  sequelize: {
    select: () => ({ dir: 'sequelize', files: (f) => f.endsWith('.ts') }),
    where: 'the numbered migrations go in your migrations folder (as .js), in order; concordia-job-model.ts, which they import, goes in your models folder (adjust the import path)',
  },
  kysely: {
    select: () => ({ dir: 'kysely', files: (f) => /^\d{4}-.*\.ts$/.test(f) }),
    where: "put it in the folder your Migrator's FileMigrationProvider reads, in this order",
  },
  knex: {
    select: () => ({ dir: 'knex', files: (f) => /^\d{4}_.*\.ts$/.test(f) }),
    where: 'put it in your Knex migrations directory, in this order (as .js unless Knex runs under a TypeScript loader)',
  },
};

/** Finds the package's `schema/` folder from the source tree (`bin/cli`) or the built package (`dist/bin/cli`). */
function schemaRoot(): string {
  for (const up of ['../../schema/', '../../../schema/']) {
    const root = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(root, 'postgres', '0001_create_jobs.sql'))) return root;
  }
  throw new Error('The schema/ folder is missing from this installation.');
}

/**
 * The schema artifact of `orm` (all its files, in order), each preceded by a `//` comment line
 * saying where to put it. `--db` picks the file where an ORM has one per database (Prisma,
 * Drizzle) and is optional elsewhere; `--table` renames the table as for the SQL.
 */
function ormArtifact(orm: string, options: { db: string | undefined; table: string | undefined }): string {
  // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
  const spec = Object.hasOwn(ORMS, orm) ? ORMS[orm] : undefined;
  if (!spec) throw usage(`--orm must be one of sql, ${Object.keys(ORMS).join(', ')} (got "${orm.slice(0, 40)}").`);
  const db = options.db === undefined ? undefined : dbOf(options.db);
  if (options.db !== undefined && !db) throw usage(`--db must be postgres, mysql or sqlite (got "${options.db.slice(0, 40)}").`);
  const pick = spec.select(db);
  if (!pick) throw usage(`--orm ${orm} has one artifact per database: add --db postgres, mysql or sqlite.`);
  const folder = join(schemaRoot(), pick.dir);
  const files = readdirSync(folder).filter(pick.files).sort();
  if (files.length === 0) throw new Error(`schema/${pick.dir} has no ${orm} artifact in this installation.`);
  let table = 'concordia_jobs';
  if (options.table !== undefined) {
    table = assertTableName(options.table);
    if (table.includes('.')) throw usage('--table: give the table name without a schema; qualify it in your ORM configuration.');
  }
  return files
    .map((f) => {
      const text = readFileSync(join(folder, f), 'utf8');
      const header = `// Concordia ${orm} artifact schema/${pick.dir}/${f}: ${spec.where}.\n`;
      return header + (table === 'concordia_jobs' ? text : text.replace(/concordia_jobs/g, table));
    })
    .join('\n');
}
