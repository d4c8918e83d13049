/**
 * The in-memory adapter, for unit tests and development. Nothing survives the process.
 *
 * @module concordia/memory
 */
import type { MemoryExecutor, MemoryJobRow } from '../../lib/dialects/memory-dialect.ts';
import { MemoryStore } from '../../lib/dialects/memory-dialect.ts';
import { NotInTransactionError, StateError } from '../../lib/errors.ts';
import type { Adapter, Executor } from '../../lib/sql/executor.ts';

/** A transaction of the memory adapter: its inserts become visible on commit. */
export interface MemoryTransaction {
  readonly __memoryTransaction: true;
}

interface OpenTransaction extends MemoryTransaction {
  pending: MemoryJobRow[];
  open: boolean;
}

/** The memory adapter, with a transaction helper and a view of the rows. */
export interface MemoryAdapter extends Adapter<MemoryTransaction> {
  /** Runs `fn` in a transaction: inserts apply when it resolves and vanish when it throws. */
  transactional<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T>;
  /** A snapshot of every committed row. */
  rows(): MemoryJobRow[];
}

function unsupported(): never {
  throw new StateError('The memory adapter runs no SQL.');
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
  const executor = (pending: MemoryJobRow[] | null): MemoryExecutor => ({
    dialect: 'memory',
    store,
    pending,
    query: async () => unsupported(),
    execute: async () => unsupported(),
  });
  const autocommit: Executor = executor(null);
  const commit = (tx: OpenTransaction): void => {
    for (const row of tx.pending) store.rows.set(row.id, row);
  };
  return {
    name: 'memory',
    dialect: 'memory',
    bind(tx) {
      const open = tx as Partial<OpenTransaction> | undefined;
      if (!open?.open || !Array.isArray(open.pending)) {
        throw new NotInTransactionError('memoryAdapter: enqueue() needs the tx of memory.transactional(async (tx) => …).');
      }
      return executor(open.pending);
    },
    autocommit: () => autocommit,
    async transaction(fn) {
      return fn(autocommit);
    },
    userTransaction(fn) {
      return this.transactional(fn);
    },
    async transactional(fn) {
      const tx: OpenTransaction = { __memoryTransaction: true, pending: [], open: true };
      store.openTransactions.add(tx.pending);
      try {
        const out = await fn(tx);
        commit(tx);
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
