/**
 * The ioredis adapter: enqueue inside your `MULTI`, and the worker on the same client.
 *
 * ```ts
 * const redis = new Redis();
 * const jobs = createJobs({ adapter: ioredisAdapter(redis), jobs: [sendEmail] });
 * const m = redis.multi();
 * m.hset(`order:${id}`, { total: 42 });
 * await jobs.enqueue(m, sendEmail({ orderId: id })); // queued in the MULTI, nothing sent yet
 * await m.exec(); // the order and its job, together
 * ```
 *
 * @module concordia/ioredis
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { Adapter, Listener } from '../../lib/backend/adapter.ts';
import { RedisBackend } from '../../lib/backends/redis/redis-backend.ts';
import type { RedisDurability } from '../../lib/backends/redis/redis-durability.ts';
import { isNoScript, type RedisArg, type RedisMultiPort, type RedisPort, type RedisScript, type RedisSession } from '../../lib/backends/redis/redis-port.ts';
import { watchMulti } from '../../lib/backends/redis/multi-lifecycle.ts';
import { NotInTransactionError } from '../../lib/errors.ts';

export type { RedisSession } from '../../lib/backends/redis/redis-port.ts';
export type { RedisDurability } from '../../lib/backends/redis/redis-durability.ts';

/** The ioredis adapter. `Tx` is the pipeline `redis.multi()` returns. */
export type IoredisAdapter = Adapter<ChainableCommander, RedisSession>;

function portOf(client: Redis | Cluster): RedisPort {
  return {
    async run(script: RedisScript, keys: readonly string[], args: readonly RedisArg[]) {
      try {
        return await client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return client.eval(script.source, keys.length, ...keys, ...args);
      }
    },
    command(args: readonly RedisArg[]) {
      const [name, ...rest] = args;
      return client.call(String(name), ...rest.map(String));
    },
  };
}

/** Whether `tx` is a pipeline opened by `multi()` (a plain `pipeline()` is not a transaction). */
function isMulti(tx: unknown): tx is ChainableCommander {
  const p = tx as { isPipeline?: unknown; _transactions?: unknown; eval?: unknown } | null;
  return typeof p === 'object' && p !== null && p.isPipeline === true && typeof p._transactions === 'number' && p._transactions > 0 && typeof p.eval === 'function';
}

/**
 * The MULTI as the backend sees it. `exec` and `discard` are wrapped (once) so the backend
 * learns when the MULTI ends; nothing else of the pipeline changes.
 */
function multiPort(tx: ChainableCommander): RedisMultiPort & { onCommit(fn: () => void): void } {
  const life = watchMulti(tx, { discard: true });
  return {
    queue(script, keys, args) {
      tx.eval(script.source, keys.length, ...keys, ...args);
    },
    onEnd: life.onEnd,
    onCommit: life.onCommit,
  };
}

/** Options of {@link ioredisAdapter}. */
export interface IoredisAdapterOptions {
  /**
   * What a worker does at start when the server's settings could lose jobs (maxmemory-policy
   * other than noeviction; no append-only file; appendfsync no): `'warn'` (default) logs each
   * risk once, `'require'` refuses to start with a `DurabilityError`, `'ignore'` skips the check.
   * A server that refuses `CONFIG GET` (some managed services) gets one warning, never a refusal.
   */
  durability?: RedisDurability;
}

/**
 * The subscription connection on a Cluster. `Cluster.duplicate()` replaces `redisOptions` as a
 * whole, so they are merged here: without the user's own (password, username, TLS), every node
 * would refuse the new connection. ioredis subscribes on one node (its name shows in CLIENT LIST
 * as `ioredis-cluster(subscriber):concordia:listen:…`); PUBLISH reaches every node of a cluster.
 * When that node's connection drops, ioredis subscribes again on another node by itself, without
 * telling anyone: wake-ups published in between are missed, and the worker's poll finds those jobs.
 */
function subscriberOfCluster(client: Cluster, name: string): Cluster {
  return client.duplicate(undefined, { redisOptions: { ...client.options.redisOptions, connectionName: name }, clusterRetryStrategy: () => null });
}

/**
 * The client's `keyPrefix`. ioredis puts it before every key a command names (so the scripts'
 * keys, and the wake-up channel they derive from them, carry it) but never before a pub/sub
 * channel: the subscription must add it itself.
 */
function keyPrefixOf(client: Redis | Cluster): string {
  if ((client as Cluster).isCluster) {
    const options = (client as Cluster).options;
    return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
  }
  return (client as Redis).options.keyPrefix ?? '';
}

/**
 * Creates the adapter on an ioredis client (or Cluster: every key of one jobs table shares a
 * hash tag, so it lives on one shard). Workers open one more connection (`duplicate()`) for the
 * wake-up subscription.
 */
export function ioredisAdapter(client: Redis | Cluster, options: IoredisAdapterOptions = {}): IoredisAdapter {
  const durability = options.durability ?? 'warn';
  const port = portOf(client);
  const autocommit: RedisSession = { port, multi: null };
  // One port per MULTI, so what the backend remembers about a MULTI (its unique reservations) is found again.
  const multis = new WeakMap<ChainableCommander, ReturnType<typeof multiPort>>();
  const multiOf = (tx: ChainableCommander): ReturnType<typeof multiPort> => {
    let multi = multis.get(tx);
    if (!multi) {
      multi = multiPort(tx);
      multis.set(tx, multi);
    }
    return multi;
  };
  return {
    name: 'ioredis',
    backend: (o) => new RedisBackend(o.table, o.notify === undefined ? { durability } : { notify: o.notify, durability }),
    bind(tx) {
      if (!isMulti(tx)) throw new NotInTransactionError('ioredisAdapter: enqueue() needs the pipeline of redis.multi(); a client or a plain pipeline() would not commit the job with your writes.');
      return { port, multi: multiOf(tx) };
    },
    afterCommit(tx, fn) {
      // Called once EXEC has answered (never on DISCARD): wakes this process's idle workers at once.
      if (isMulti(tx)) multiOf(tx).onCommit(fn);
    },
    autocommit: () => autocommit,
    // Every write of the dispatcher is one script, atomic on the server: no transaction needed.
    transaction: (fn) => fn(autocommit),
    async listen(unprefixed, onNotification, onError): Promise<Listener> {
      const channel = keyPrefixOf(client) + unprefixed;
      // Named, so an operator (or a test) can find it in CLIENT LIST. On a single server it does
      // not reconnect by itself: a lost connection is reported, and the worker opens a new one
      // and looks for jobs enqueued while it was away. (On a Cluster, see subscriberOfCluster.)
      const name = `concordia:listen:${channel}`;
      const sub = (client as Cluster).isCluster ? subscriberOfCluster(client as Cluster, name) : (client as Redis).duplicate({ connectionName: name, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      let closed = false;
      const fail = (error: unknown): void => {
        if (closed) return;
        closed = true;
        sub.disconnect();
        onError(error);
      };
      sub.on('message', (ch: string, message: string) => {
        if (ch === channel) onNotification(message);
      });
      sub.on('error', fail);
      sub.on('close', () => fail(new Error('Redis subscription connection closed')));
      try {
        await sub.subscribe(channel);
      } catch (error) {
        closed = true;
        sub.disconnect();
        throw error;
      }
      return {
        async close() {
          if (closed) return;
          closed = true;
          await sub.quit().catch(() => sub.disconnect());
        },
      };
    },
  };
}
