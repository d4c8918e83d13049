import { memoryHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('memory', 'memory', memoryHarness);
