/**
 * An 'error' listener on the driver connection an ORM holds for a user transaction.
 *
 * node-postgres emits 'error' on a client whose connection the server ends (failover,
 * pg_terminate_backend, idle_in_transaction_session_timeout), and an EventEmitter 'error'
 * without a listener is an uncaught exception that ends the process. pg-pool takes its own
 * listener off a client while it is checked out, and some ORMs check one out for a transaction
 * without adding theirs. The failing query still rejects on its own: the listener only keeps the
 * event from being fatal, and remembers the server's reason.
 *
 * @internal
 */

/** The part of a driver connection (pg `Client`, mysql2 connection) the guard uses. */
export interface ErrorEmitter {
  on(event: 'error', fn: (error: Error) => void): unknown;
  off(event: 'error', fn: (error: Error) => void): unknown;
}

/** `value` if it can take an 'error' listener. */
export function asErrorEmitter(value: unknown): ErrorEmitter | undefined {
  const e = value as Partial<ErrorEmitter> | null | undefined;
  return typeof e?.on === 'function' && typeof e.off === 'function' ? (e as ErrorEmitter) : undefined;
}

/**
 * Runs `fn` through `transaction` (the ORM's own transaction call) with a listener on the
 * connection `connectionOf(tx)` finds, from the moment `fn` starts until the transaction has
 * settled: the COMMIT or ROLLBACK and the release back to the pool are covered too (a pool drops
 * a client that has failed). When the connection broke, the transaction fails with the server's
 * reason: the ORM's own error is then about a later statement on a dead connection (often its
 * ROLLBACK, whose failure replaces the error that made it roll back).
 */
export async function guardConnection<Tx, T>(
  transaction: (body: (tx: Tx) => Promise<T>) => Promise<T>,
  connectionOf: (tx: Tx) => ErrorEmitter | undefined,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  let conn: ErrorEmitter | undefined;
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  try {
    return await transaction((tx) => {
      conn = connectionOf(tx);
      conn?.on('error', onError);
      return fn(tx);
    });
  } catch (error) {
    throw broken ?? error;
  } finally {
    conn?.off('error', onError);
  }
}
