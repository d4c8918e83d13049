import { sequelizeHarness } from '../support/sequelize-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('sequelize.sqlite', 'sqlite', () => sequelizeHarness('sqlite'));
