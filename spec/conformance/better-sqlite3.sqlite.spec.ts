import { betterSqlite3Harness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('better-sqlite3 × sqlite', 'sqlite', betterSqlite3Harness);
