import { kyselyHarness } from '../support/kysely-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('kysely × mysql', 'mysql', () => kyselyHarness('mysql'));
