import { kyselyHarness } from '../support/kysely-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('kysely.sqlite', 'sqlite', () => kyselyHarness('sqlite'));
