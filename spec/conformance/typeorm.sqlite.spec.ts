import { typeormHarness } from '../support/typeorm-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('typeorm × sqlite', 'sqlite', () => typeormHarness('sqlite'));
