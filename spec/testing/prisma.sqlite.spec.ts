import { prismaHarness } from '../support/prisma-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('prisma.sqlite', 'sqlite', () => prismaHarness('sqlite'));
