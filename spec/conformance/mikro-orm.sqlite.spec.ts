import { mikroOrmHarness } from '../support/mikro-orm-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('mikro-orm × sqlite', 'sqlite', () => mikroOrmHarness('sqlite'));
