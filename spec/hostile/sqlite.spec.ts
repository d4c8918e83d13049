import { betterSqlite3Harness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('better-sqlite3 × sqlite', 'sqlite', betterSqlite3Harness);
inputClassTests('knex × sqlite', 'sqlite', () => knexHarness('sqlite'));
