import { prismaHarness } from '../support/prisma-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('prisma × mysql', 'mysql', () => prismaHarness('mysql'));
