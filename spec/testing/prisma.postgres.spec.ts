import { prismaHarness } from '../support/prisma-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('prisma.postgres', 'postgres', () => prismaHarness('postgres'));
