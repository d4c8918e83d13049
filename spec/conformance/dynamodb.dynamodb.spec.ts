import { dynamodbHarness } from '../support/dynamodb-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('dynamodb × DynamoDB Local', 'dynamodb', dynamodbHarness as never);
