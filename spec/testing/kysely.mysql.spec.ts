import { kyselyHarness } from '../support/kysely-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('kysely.mysql', 'mysql', () => kyselyHarness('mysql'));
