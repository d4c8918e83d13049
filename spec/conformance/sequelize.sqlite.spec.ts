import { sequelizeHarness } from '../support/sequelize-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('sequelize × sqlite', 'sqlite', () => sequelizeHarness('sqlite'));
