import { mysql2Harness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('mysql2 × mysql', 'mysql', mysql2Harness);
// The tens-of-MiB volume cases run once per database, through the raw driver above.
inputClassTests('knex × mysql', 'mysql', () => knexHarness('mysql'), { volume: false });
