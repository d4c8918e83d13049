import { ioredisHarness } from '../support/redis-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('ioredis × redis', 'redis', ioredisHarness as never);
