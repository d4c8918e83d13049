import { typeormHarness } from '../support/typeorm-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('typeorm × mysql', 'mysql', () => typeormHarness('mysql'));
