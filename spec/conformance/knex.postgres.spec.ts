import { knexHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('knex × postgres', 'postgres', () => knexHarness('postgres'));
