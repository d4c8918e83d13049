/**
 * Where this test worker finds the emulators: the environment first (`.ci/run` exports both),
 * else what the run's globalSetup started and provided (global-setup.ts, emulators.ts). An
 * empty string means the emulator is not available here: its tests skip (outside CI; in CI the
 * globalSetup has already failed the run).
 */
import { inject } from 'vitest';
import { DYNAMODB_ENDPOINT_VARIABLE, FIRESTORE_HOST_VARIABLE, type EmulatorEndpoints } from './emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The emulators of this run, as globalSetup found or started them. */
    concordiaEmulators: EmulatorEndpoints;
  }
}

function injected(): EmulatorEndpoints | undefined {
  // Outside vitest (the benchmarks import harnesses too) `inject` throws.
  if (!process.env['VITEST']) return undefined;
  try {
    return inject('concordiaEmulators');
  } catch {
    return undefined;
  }
}

/** DynamoDB Local's endpoint URL, or '' when there is none. */
export function dynamodbEndpoint(): string {
  return process.env[DYNAMODB_ENDPOINT_VARIABLE] || injected()?.dynamodb || '';
}

/** The Firestore emulator's `host:port`, or '' when there is none. */
export function firestoreEmulatorHost(): string {
  return process.env[FIRESTORE_HOST_VARIABLE] || injected()?.firestore || '';
}
