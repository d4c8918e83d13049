/**
 * The LISTEN connection of a worker on PostgreSQL, on a dedicated node-postgres client: shared
 * by the `pg` adapter and the Prisma adapter (on `PrismaPg`'s settings or its `listen` option).
 *
 * @module
 */
import type { Notification, Pool, PoolClient } from 'pg';
import type { Listener } from '../../lib/sql/executor.ts';

/** The part of a not-yet-connected `pg.Client` this uses. */
export type PgListenClient = Pick<PoolClient, 'query' | 'on' | 'off'> & { connect(): Promise<void>; end(): Promise<void> };

/** A new client with the pool's own settings, outside the pool. */
export function dedicatedClient(pool: Pool): PgListenClient {
  const PgClient = (pool as unknown as { Client: new (options: unknown) => PgListenClient }).Client;
  return new PgClient((pool as unknown as { options: unknown }).options);
}

/**
 * Connects `client`, LISTENs on `channel` and forwards its payloads. `onError` fires once the
 * connection fails or ends (the worker then opens a new listener); `close()` ends it quietly.
 */
export async function listenOn(client: PgListenClient, channel: string, onNotification: (payload: string) => void, onError: (error: unknown) => void): Promise<Listener> {
  await client.connect();
  let closed = false;
  const onNotify = (msg: Notification): void => {
    if (msg.channel === channel) onNotification(msg.payload ?? '');
  };
  const onClientError = (error: unknown): void => {
    if (!closed) onError(error);
  };
  client.on('notification', onNotify);
  client.on('error', onClientError);
  client.on('end', () => onClientError(new Error('LISTEN connection ended')));
  try {
    // `channel` comes from a validated table name; identifiers cannot be bound.
    await client.query(`LISTEN "${channel}"`);
  } catch (error) {
    closed = true;
    await client.end().catch(() => {});
    throw error;
  }
  return {
    async close() {
      if (closed) return;
      closed = true;
      client.off('notification', onNotify);
      await client.end().catch(() => {});
    },
  };
}
