import { drizzleHarness } from '../support/drizzle-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('drizzle × sqlite', 'sqlite', () => drizzleHarness('sqlite'));
