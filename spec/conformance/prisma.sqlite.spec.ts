import { prismaHarness } from '../support/prisma-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('prisma × sqlite', 'sqlite', () => prismaHarness('sqlite'));
