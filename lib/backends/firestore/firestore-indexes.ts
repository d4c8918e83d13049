/**
 * The composite indexes and index exemptions a Firestore jobs collection needs in production,
 * in the shape of `firestore.indexes.json` (the emulator does not enforce indexes; a production
 * database answers a query without its index with FAILED_PRECONDITION and a link to create it).
 *
 * Every composite index starts with `shard` (see firestore-codec.ts). The single-field indexes
 * Firestore creates by itself are turned off for fields that grow with time (a lone index on
 * them would be the hotspot the shards avoid) and for the large JSON texts (never queried; they
 * only cost index writes and storage).
 *
 * @module
 */

/** One composite index of `firestore.indexes.json`. */
export interface FirestoreIndex {
  collectionGroup: string;
  queryScope: 'COLLECTION';
  fields: { fieldPath: string; order: 'ASCENDING' | 'DESCENDING' }[];
}

/** One field override of `firestore.indexes.json` (an empty `indexes` turns indexing off). */
export interface FirestoreFieldOverride {
  collectionGroup: string;
  fieldPath: string;
  indexes: { order: 'ASCENDING' | 'DESCENDING'; queryScope: 'COLLECTION' }[];
}

const asc = (fieldPath: string) => ({ fieldPath, order: 'ASCENDING' as const });
const desc = (fieldPath: string) => ({ fieldPath, order: 'DESCENDING' as const });

/**
 * The `firestore.indexes.json` content for the jobs collection `table` (default `concordia_jobs`).
 * Merge it into your project's file and deploy with `firebase deploy --only firestore:indexes`.
 */
export function firestoreIndexes(table = 'concordia_jobs'): { indexes: FirestoreIndex[]; fieldOverrides: FirestoreFieldOverride[] } {
  const index = (...fields: FirestoreIndex['fields']): FirestoreIndex => ({ collectionGroup: table, queryScope: 'COLLECTION', fields });
  const off = (fieldPath: string): FirestoreFieldOverride => ({ collectionGroup: table, fieldPath, indexes: [] });
  return {
    indexes: [
      // Claim: due jobs of a queue in claim order.
      index(asc('shard'), asc('queue'), asc('state'), asc('priority'), asc('run_at'), asc('id')),
      // Rescue of expired leases.
      index(asc('shard'), asc('state'), asc('lease_expires_at')),
      // Retention and throughput.
      index(asc('shard'), asc('state'), asc('finalized_at')),
      // Lists, newest and oldest first.
      index(asc('shard'), asc('state'), desc('id')),
      index(asc('shard'), asc('state'), asc('id')),
      // Lists of named queues; counts per queue and state.
      index(asc('shard'), asc('queue'), asc('state'), desc('id')),
      index(asc('shard'), asc('queue'), asc('state'), asc('id')),
      // The distinct queues.
      index(asc('shard'), asc('queue')),
    ],
    fieldOverrides: ['id', 'run_at', 'created_at', 'attempted_at', 'finalized_at', 'lease_expires_at', 'args', 'metadata', 'errors', 'lease_token'].map(off),
  };
}
