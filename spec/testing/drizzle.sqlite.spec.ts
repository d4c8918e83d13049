import { drizzleHarness } from '../support/drizzle-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('drizzle.sqlite', 'sqlite', () => drizzleHarness('sqlite'));
