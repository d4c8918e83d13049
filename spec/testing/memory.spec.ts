import { memoryHarness } from '../support/harnesses.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('memory', 'memory', () => memoryHarness());
