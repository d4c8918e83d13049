import { knexHarness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('knex.postgres', 'postgres', () => knexHarness('postgres'));
