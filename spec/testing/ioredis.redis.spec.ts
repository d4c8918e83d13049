import type { Harness } from '../support/harness.ts';
import { ioredisHarness } from '../support/redis-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('ioredis.redis', 'redis', async () => (await ioredisHarness()) as Harness);
