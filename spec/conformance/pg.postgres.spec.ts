import { pgHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('pg × postgres', 'postgres', pgHarness);
