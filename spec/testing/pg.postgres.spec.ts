import { pgHarness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('pg.postgres', 'postgres', () => pgHarness());
