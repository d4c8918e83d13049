import { knexHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('knex × mysql', 'mysql', () => knexHarness('mysql'));
