import { knexHarness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('knex.sqlite', 'sqlite', () => knexHarness('sqlite'));
