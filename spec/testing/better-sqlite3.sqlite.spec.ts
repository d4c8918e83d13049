import { betterSqlite3Harness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('better-sqlite3.sqlite', 'sqlite', () => betterSqlite3Harness());
