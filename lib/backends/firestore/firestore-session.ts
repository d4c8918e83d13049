/**
 * The Firestore backend's session and the collections one jobs table uses. Types only come from
 * `@google-cloud/firestore` (firebase-admin's `getFirestore()` returns the same class), so the
 * engine never loads the SDK unless the adapter is used.
 *
 * @internal Not semver-stable.
 */
import type { CollectionReference, DocumentReference, Firestore, Transaction, WriteBatch } from '@google-cloud/firestore';
import { StateError } from '../../errors.ts';

/**
 * What a backend call writes through: the user's `Transaction` (reads allowed only before its
 * first write), the user's `WriteBatch` (no reads at all), or neither (each write commits on its
 * own, or inside a short transaction of the backend's own).
 */
export interface FirestoreSession {
  /** @internal */
  readonly db: Firestore;
  /** @internal */
  readonly tx: Transaction | null;
  /** @internal */
  readonly batch: WriteBatch | null;
}

/** The collections of one jobs table: the jobs, the unique-key guards and the queue settings (pause markers). */
export interface FirestoreCollections {
  jobs: CollectionReference;
  guards: CollectionReference;
  queues: CollectionReference;
}

export function collectionsOf(db: Firestore, table: string): FirestoreCollections {
  return { jobs: db.collection(table), guards: db.collection(`${table}_unique`), queues: db.collection(`${table}_queues`) };
}

export function sessionOf(ex: unknown): FirestoreSession {
  const s = ex as Partial<FirestoreSession> | null;
  if (!s || typeof s !== 'object' || !s.db) throw new StateError('The Firestore backend needs a session from firestoreAdapter().');
  return s as FirestoreSession;
}

/**
 * Whether this attempt of `tx` has already queued a write to `ref`. Firestore re-runs a
 * transaction callback on the same `Transaction` object and clears its queued writes between
 * attempts, so this tells a write of the current attempt from one of an attempt that will never
 * commit. It reads the SDK's write list (not a public API): where that is not found, it answers
 * false, and callers fall back to a read (which then refuses with a typed error).
 */
export function queuedInThisAttempt(tx: Transaction, ref: DocumentReference): boolean {
  const ops = (tx as unknown as { _writeBatch?: { _ops?: unknown } })._writeBatch?._ops;
  if (!Array.isArray(ops)) return false;
  return ops.some((op: unknown) => (op as { docPath?: unknown } | null)?.docPath === ref.path);
}

/** The SDK's message for a read after a write in one transaction. */
export function isReadAfterWrite(error: unknown): boolean {
  return /reads to be executed before all writes/.test(String((error as { message?: unknown } | null)?.message ?? error));
}
