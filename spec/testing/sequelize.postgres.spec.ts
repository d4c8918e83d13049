import { sequelizeHarness } from '../support/sequelize-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('sequelize.postgres', 'postgres', () => sequelizeHarness('postgres'));
