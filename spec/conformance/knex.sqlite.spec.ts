import { knexHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('knex × sqlite', 'sqlite', () => knexHarness('sqlite'));
