import { pgHarness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('pg × postgres', 'postgres', pgHarness);
// The tens-of-MiB volume cases run once per database, through the raw driver above.
inputClassTests('knex × postgres', 'postgres', () => knexHarness('postgres'), { volume: false });
