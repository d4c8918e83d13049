import { mysql2Harness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('mysql2 × mariadb', 'mysql', mysql2Harness);
