import { mikroOrmHarness } from '../support/mikro-orm-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('mikro-orm.sqlite', 'sqlite', () => mikroOrmHarness('sqlite'));
