/**
 * The in-memory adapter, for unit tests and development. Nothing survives the process.
 *
 * @module concordia/memory
 */
import type { Adapter } from '../../lib/backend/adapter.ts';
import { MemoryBackend, MemoryStore, type MemoryJobRow, type MemorySession } from '../../lib/backends/memory/memory-backend.ts';
import { NotInTransactionError } from '../../lib/errors.ts';

export type { MemorySession } from '../../lib/backends/memory/memory-backend.ts';

/** A transaction of the memory adapter: its inserts become visible on commit. */
export interface MemoryTransaction {
  readonly __memoryTransaction: true;
}

interface OpenTransaction extends MemoryTransaction {
  pending: MemoryJobRow[];
  open: boolean;
  /** Called once its inserts are visible (never on rollback). */
  onCommit: (() => void)[];
}

/** The memory adapter, with a transaction helper and a view of the rows. */
export interface MemoryAdapter extends Adapter<MemoryTransaction, MemorySession> {
  /** Runs `fn` in a transaction: inserts apply when it resolves and vanish when it throws. */
  transactional<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T>;
  /** A snapshot of every committed row. */
  rows(): MemoryJobRow[];
}

/**
 * Creates an in-memory adapter.
 *
 * @example
 * ```ts
 * const memory = memoryAdapter();
 * const jobs = createJobs({ adapter: memory, jobs: [sendEmail] });
 * await memory.transactional((tx) => jobs.enqueue(tx, sendEmail({ orderId: '1' })));
 * ```
 */
export function memoryAdapter(): MemoryAdapter {
  const store = new MemoryStore();
  const session = (pending: MemoryJobRow[] | null): MemorySession => ({ store, pending });
  const autocommit = session(null);
  const commit = (tx: OpenTransaction): void => {
    for (const row of tx.pending) store.rows.set(row.id, row);
  };
  return {
    name: 'memory',
    backend: () => new MemoryBackend(),
    bind(tx) {
      const open = tx as Partial<OpenTransaction> | undefined;
      if (!open?.open || !Array.isArray(open.pending)) {
        throw new NotInTransactionError('memoryAdapter: enqueue() needs the tx of memory.transactional(async (tx) => …).');
      }
      return session(open.pending);
    },
    autocommit: () => autocommit,
    async transaction(fn) {
      return fn(autocommit);
    },
    userTransaction(fn) {
      return this.transactional(fn);
    },
    afterCommit(tx, fn) {
      const open = tx as Partial<OpenTransaction> | undefined;
      if (open?.open && Array.isArray(open.onCommit)) open.onCommit.push(fn);
    },
    async transactional(fn) {
      const tx: OpenTransaction = { __memoryTransaction: true, pending: [], open: true, onCommit: [] };
      store.openTransactions.add(tx.pending);
      try {
        const out = await fn(tx);
        commit(tx);
        tx.open = false;
        for (const hook of tx.onCommit) {
          try {
            hook();
          } catch {
            // A hook's failure is its own: the transaction has committed.
          }
        }
        return out;
      } finally {
        tx.open = false;
        // Unique inserts waiting on a key this transaction held look again (committed or gone).
        store.endTransaction(tx.pending);
      }
    },
    rows: () => [...store.rows.values()].map((r) => ({ ...r })),
  };
}
