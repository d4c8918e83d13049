import { typeormHarness } from '../support/typeorm-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('typeorm.mysql', 'mysql', () => typeormHarness('mysql'));
