/**
 * `firestore://<project>[?emulator=host:port][&collection=name]` for the CLI: a Firestore
 * instance of `@google-cloud/firestore` (loaded only for this scheme). Without `emulator`, the
 * SDK finds credentials as it always does (GOOGLE_APPLICATION_CREDENTIALS, the metadata server,
 * or FIRESTORE_EMULATOR_HOST, which wins over everything).
 *
 * @module
 */
import type { Adapter } from '../../lib/sql/executor.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';
import type { Connection } from './connect.ts';

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Opens the Firestore of the URL's project; `collection` names the jobs collection (like --table). */
export async function connectFirestore(url: string): Promise<Connection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`Not a Firestore URL: ${url} (use firestore://<project>?emulator=host:port).`);
  }
  const projectId = parsed.hostname;
  if (!PROJECT.test(projectId)) throw usage(`firestore://: "${projectId}" is not a Google Cloud project id (6–30 lowercase letters, digits and hyphens).`);
  const emulator = parsed.searchParams.get('emulator');
  if (emulator !== null && !HOST_PORT.test(emulator)) throw usage(`firestore://: emulator must be host:port, got "${emulator}".`);
  const collection = parsed.searchParams.get('collection');
  let sdk: typeof import('@google-cloud/firestore');
  try {
    sdk = await import('@google-cloud/firestore');
  } catch (error) {
    throw new CliError('DRIVER_MISSING', EXIT.database, 'The "@google-cloud/firestore" driver is not installed: npm install @google-cloud/firestore', { cause: error });
  }
  const { firestoreAdapter } = await import('../../adapters/firestore/firestore-adapter.ts');
  // ssl: false makes the SDK send the emulator's owner token instead of looking for credentials.
  const firestore = new sdk.Firestore(emulator === null ? { projectId } : { projectId, host: emulator, ssl: false });
  return {
    adapter: firestoreAdapter({ firestore }) as unknown as Adapter<unknown>,
    display: emulator === null ? `firestore://${projectId}` : `firestore://${projectId} (emulator ${emulator})`,
    ...(collection !== null && { table: collection }),
    close: () => firestore.terminate(),
  };
}
