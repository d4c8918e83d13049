/**
 * Compare-and-set on one document: an update (or delete) that applies only if the document has
 * not changed since it was read, by Firestore's `lastUpdateTime` precondition. The dispatcher's
 * writes use it instead of transactions: a transaction on a server SDK locks what it reads, and
 * one that loses a race is re-run after a backoff of about a second; a precondition that fails
 * costs one refused write and no wait, and the loser simply skips the job.
 *
 * @internal
 */
import type { DocumentData, DocumentSnapshot, Firestore, UpdateData } from '@google-cloud/firestore';

/** gRPC codes of a write that lost the race: FAILED_PRECONDITION, NOT_FOUND. */
const LOST = new Set([9, 5]);

function lost(error: unknown): boolean {
  return LOST.has(Number((error as { code?: unknown } | null)?.code));
}

/** Updates `snap`'s document if it is unchanged since `snap` was read; false when it changed or is gone. */
export async function casUpdate(snap: DocumentSnapshot, data: UpdateData<DocumentData>): Promise<boolean> {
  if (!snap.updateTime) return false;
  try {
    await snap.ref.update(data, { lastUpdateTime: snap.updateTime });
    return true;
  } catch (error) {
    if (lost(error)) return false;
    throw error;
  }
}

/** Deletes `snap`'s document if it is unchanged since `snap` was read. */
export async function casDelete(snap: DocumentSnapshot): Promise<boolean> {
  if (!snap.updateTime) return false;
  try {
    await snap.ref.delete({ lastUpdateTime: snap.updateTime });
    return true;
  } catch (error) {
    if (lost(error)) return false;
    throw error;
  }
}

/**
 * {@link casUpdate} on many documents at once: one commit of all the writes while no race was
 * lost (the common case for completions and heartbeats), and one commit per document only when
 * that all-or-nothing commit was refused. Returns, in order, whether each write held.
 */
export async function casUpdateAll(db: Firestore, writes: readonly { snap: DocumentSnapshot; data: UpdateData<DocumentData> }[]): Promise<boolean[]> {
  if (writes.length === 0) return [];
  if (writes.length === 1 || writes.some((w) => !w.snap.updateTime)) return Promise.all(writes.map((w) => casUpdate(w.snap, w.data)));
  const batch = db.batch();
  for (const w of writes) batch.update(w.snap.ref, w.data, { lastUpdateTime: w.snap.updateTime! });
  try {
    await batch.commit();
    return writes.map(() => true);
  } catch (error) {
    if (!lost(error)) throw error;
    return Promise.all(writes.map((w) => casUpdate(w.snap, w.data)));
  }
}
