import type { Harness } from '../support/harness.ts';
import { nodeRedisHarness } from '../support/redis-harness.ts';
import { exerciseTesting } from './exercise-testing.ts';

exerciseTesting('node-redis.redis', 'redis', async () => (await nodeRedisHarness()) as Harness);
