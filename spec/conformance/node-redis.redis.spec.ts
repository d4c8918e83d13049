import { nodeRedisHarness } from '../support/redis-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('node-redis × redis', 'redis', nodeRedisHarness as never);
