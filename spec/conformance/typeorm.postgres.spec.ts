import { typeormHarness } from '../support/typeorm-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('typeorm × postgres', 'postgres', () => typeormHarness('postgres'));
