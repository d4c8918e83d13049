import { prismaHarness } from '../support/prisma-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('prisma.mysql', 'mysql', () => prismaHarness('mysql'));
