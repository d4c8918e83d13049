import { pgHarness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('pg × postgres', 'postgres', pgHarness);
inputClassTests('knex × postgres', 'postgres', () => knexHarness('postgres'));
