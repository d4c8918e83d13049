import { mysql2Harness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('mysql2.mysql', 'mysql', () => mysql2Harness());
