import { drizzleHarness } from '../support/drizzle-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('drizzle.postgres', 'postgres', () => drizzleHarness('postgres'));
