/**
 * The SQL drizzle-kit generates for a set of Drizzle tables, through its programmatic API
 * (`drizzle-kit/api`), the same diff `drizzle-kit generate` writes into a migration file. It
 * works offline, so tests create their tables exactly as drizzle-kit would.
 *
 * @module
 */
import type { Table } from 'drizzle-orm';

/**
 * Returns drizzle-kit's CREATE statements for `tables`, diffed against an empty database.
 *
 * @example
 * ```ts
 * for (const stmt of await drizzleKitCreateSql('postgres', { jobs: concordiaJobs })) await pool.query(stmt);
 * ```
 */
export async function drizzleKitCreateSql(db: 'postgres' | 'mysql' | 'sqlite', tables: Record<string, Table>): Promise<string[]> {
  // Loaded lazily: drizzle-kit is a dev tool, and an application importing the table
  // definitions must not pull it in.
  const kit = await import('drizzle-kit/api');
  if (db === 'postgres') return kit.generateMigration(kit.generateDrizzleJson({}), kit.generateDrizzleJson(tables));
  if (db === 'mysql') return kit.generateMySQLMigration(await kit.generateMySQLDrizzleJson({}), await kit.generateMySQLDrizzleJson(tables));
  return kit.generateSQLiteMigration(await kit.generateSQLiteDrizzleJson({}), await kit.generateSQLiteDrizzleJson(tables));
}
