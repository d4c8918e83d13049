/**
 * Starts DynamoDB Local and the Firestore emulator for a whole CI run (.ci/run), each on a free
 * loopback port and in memory, then prints shell `export` lines naming them
 * (CONCORDIA_DYNAMODB_ENDPOINT, FIRESTORE_EMULATOR_HOST, and CONCORDIA_EMULATOR_PIDS for the
 * stop at exit). The emulators keep running after this script exits; the test run, the
 * benchmark smoke and anything else in the CI shell use the same two.
 *
 * Usage: eval "$(node scripts/start-emulators.ts)"
 */
import { DYNAMODB_ENDPOINT_VARIABLE, FIRESTORE_HOST_VARIABLE, startDynamoDbLocal, startFirestoreEmulator } from '../spec/support/emulators.ts';

const [dynamodb, firestore] = await Promise.all([startDynamoDbLocal(), startFirestoreEmulator()]);
process.stderr.write(`DynamoDB Local at ${dynamodb.endpoint} (pid ${dynamodb.pid}), Firestore emulator at ${firestore.endpoint} (pid ${firestore.pid})\n`);
process.stdout.write(
  [
    `export ${DYNAMODB_ENDPOINT_VARIABLE}=${dynamodb.endpoint}`,
    `export ${FIRESTORE_HOST_VARIABLE}=${firestore.endpoint}`,
    `export CONCORDIA_EMULATOR_PIDS="${dynamodb.pid} ${firestore.pid}"`,
    '',
  ].join('\n'),
);
// The children are in process groups of their own; let this process end without waiting for them.
process.exit(0);
