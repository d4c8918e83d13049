/**
 * Counts the document reads and writes a Firestore client sends, in the units Firestore bills:
 * a read per document returned (a query that returns nothing still bills one; a count() bills
 * one per 1,000 entries counted, at least one), a write per document written.
 *
 * The SDK has no request middleware, so this wraps the prototype methods that read or write,
 * once per process, and counts only for the `Firestore` instances passed to {@link countOps}
 * (a side client that checks progress stays out of the figures). Bench code only: the library
 * never does this.
 *
 * Chosen so that no call is counted twice: `DocumentReference.get` goes through
 * `Firestore.getAll`; a document's `update`/`set`/`create`/`delete`, `WriteBatch.commit` and a
 * transaction's commit all go through the internal `WriteBatch._commit`, which is wrapped instead
 * of each of them; a transaction's reads go through its own `get`/`getAll`, not `Query.get`.
 */
import firestorePackage, { type AggregateQuery as AggregateQueryOf, type Firestore, type Query as QueryOf, type Transaction as TransactionOf } from '@google-cloud/firestore';

// A CommonJS package: Node's named-export detection finds `Firestore` but not every class.
const { DocumentReference, Query, Transaction, WriteBatch } = firestorePackage;

/** Operations counted for one instance since it was registered. */
export interface OpCounts {
  reads: number;
  writes: number;
  /** Commits sent (batches, transactions, single-document writes), successful or not. */
  commits: number;
  /** Writes in commits the store refused (a precondition failed, contention): not billed. */
  failedWrites: number;
}

const counted = new WeakMap<Firestore, OpCounts>();
let installed = false;

/** Starts counting for `db` (installing the wrappers on first use) and returns its live counts. */
export function countOps(db: Firestore): OpCounts {
  install(db);
  let c = counted.get(db);
  if (!c) counted.set(db, (c = { reads: 0, writes: 0, commits: 0, failedWrites: 0 }));
  return c;
}

/** The difference of two snapshots of the counts, per job, as `extra` fields of a result. */
export function opsPerJob(now: OpCounts, before: OpCounts, jobs: number): Record<string, number> {
  const j = Math.max(jobs, 1);
  return {
    readsPerJob: (now.reads - before.reads) / j,
    writesPerJob: (now.writes - before.writes) / j,
    commitsPerJob: (now.commits - before.commits) / j,
    failedWritesPerJob: (now.failedWrites - before.failedWrites) / j,
  };
}

/** A query returning nothing still bills one read. */
const queryReads = (size: number): number => Math.max(1, size);

/** count() bills one read per 1,000 index entries counted, at least one. */
function aggregateReads(data: Record<string, unknown>): number {
  const n = typeof data['count'] === 'number' ? data['count'] : 0;
  return Math.max(1, Math.ceil(n / 1000));
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces `proto[name]` by a wrapper that passes `this` and the result to `onResult`. */
function wrap<T>(proto: object, name: string, onResult: (self: T, result: unknown, args: unknown[]) => void): void {
  const p = proto as Record<string, AnyFn>;
  const original = p[name];
  if (typeof original !== 'function') throw new Error(`firestore-ops: the SDK has no ${name} to count`);
  p[name] = async function countedCall(this: unknown, ...args: unknown[]): Promise<unknown> {
    const result = await original.apply(this, args);
    onResult(this as T, result, args);
    return result;
  };
}

const of = (db: unknown): OpCounts | undefined => counted.get(db as Firestore);
const internal = (x: unknown): Record<string, unknown> => x as Record<string, unknown>;

function install(db: Firestore): void {
  if (installed) return;
  installed = true;
  // The package does not export AggregateQuery: its prototype is taken from a count() query.
  const aggregateProto = Object.getPrototypeOf(db.collection('bench').count()) as object;
  wrap<QueryOf>(Query.prototype, 'get', (q, snap) => {
    const c = of(internal(q)['_firestore']);
    if (c) c.reads += queryReads((snap as { size: number }).size);
  });
  wrap<AggregateQueryOf<Record<string, never>>>(aggregateProto, 'get', (a, snap) => {
    const c = of(a.query.firestore);
    if (c) c.reads += aggregateReads((snap as { data(): Record<string, unknown> }).data());
  });
  wrap<Firestore>(firestorePackage.Firestore.prototype, 'getAll', (db, docs) => {
    const c = of(db);
    if (c) c.reads += (docs as unknown[]).length;
  });
  wrap<TransactionOf>(Transaction.prototype, 'get', (tx, result, args) => {
    const c = of(internal(tx)['_firestore']);
    if (!c) return;
    if (args[0] instanceof DocumentReference) c.reads += 1;
    else if (Object.getPrototypeOf(args[0]) === aggregateProto) c.reads += aggregateReads((result as { data(): Record<string, unknown> }).data());
    else c.reads += queryReads((result as { size: number }).size);
  });
  wrap<TransactionOf>(Transaction.prototype, 'getAll', (tx, docs) => {
    const c = of(internal(tx)['_firestore']);
    if (c) c.reads += (docs as unknown[]).length;
  });
  // Every write path ends here (see the module comment); the writes are counted once the store
  // accepted them, and the ones of a refused commit apart.
  const p = WriteBatch.prototype as unknown as Record<string, AnyFn>;
  const commit = p['_commit'];
  if (typeof commit !== 'function') throw new Error('firestore-ops: the SDK has no WriteBatch._commit to count');
  p['_commit'] = async function countedCommit(this: unknown, ...args: unknown[]): Promise<unknown> {
    const self = internal(this);
    const c = of(self['_firestore']);
    const ops = (self['_ops'] as unknown[] | undefined)?.length ?? 0;
    if (c) c.commits++;
    try {
      const result = await commit.apply(this, args);
      if (c) c.writes += ops;
      return result;
    } catch (error) {
      if (c) c.failedWrites += ops;
      throw error;
    }
  };
}
