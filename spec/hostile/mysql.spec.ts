import { mysql2Harness, knexHarness } from '../support/harnesses.ts';
import { inputClassTests } from './input-classes.ts';

inputClassTests('mysql2 × mysql', 'mysql', mysql2Harness);
inputClassTests('knex × mysql', 'mysql', () => knexHarness('mysql'));
