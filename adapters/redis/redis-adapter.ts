/**
 * The node-redis adapter (the `redis` package, v5): enqueue inside your `MULTI`, and the worker
 * on the same client.
 *
 * ```ts
 * const redis = await createClient().connect();
 * const jobs = createJobs({ adapter: redisAdapter(redis), jobs: [sendEmail] });
 * const m = redis.multi();
 * m.hSet(`order:${id}`, { total: 42 });
 * await jobs.enqueue(m, sendEmail({ orderId: id })); // queued in the MULTI, nothing sent yet
 * await m.exec(); // the order and its job, together
 * ```
 *
 * A cluster (`await createCluster({ rootNodes, defaults }).connect()`) works the same way:
 * `redisAdapter(cluster)`, then `cluster.multi()`. Your own keys in that MULTI must carry the
 * table's hash tag (e.g. `{concordia_jobs}:order:42`): a MULTI runs on one slot.
 *
 * node-redis's MULTI has no DISCARD: a MULTI you abandon after `enqueueUnique` keeps its unique
 * key reserved (other callers of that key wait) until you call `adapter.discard(m)`, or for at
 * most 60 seconds.
 *
 * @module concordia/redis
 */
import type { Adapter, Listener } from '../../lib/backend/adapter.ts';
import { RedisBackend } from '../../lib/backends/redis/redis-backend.ts';
import type { RedisDurability } from '../../lib/backends/redis/redis-durability.ts';
import { isNoScript, type RedisArg, type RedisMultiPort, type RedisPort, type RedisScript, type RedisSession } from '../../lib/backends/redis/redis-port.ts';
import { watchMulti, type MultiLifecycle } from '../../lib/backends/redis/multi-lifecycle.ts';
import { NotInTransactionError } from '../../lib/errors.ts';

export type { RedisSession } from '../../lib/backends/redis/redis-port.ts';
export type { RedisDurability } from '../../lib/backends/redis/redis-durability.ts';

/** The part of a node-redis MULTI this adapter uses. */
export interface NodeRedisMulti {
  addCommand(args: string[]): unknown;
  exec(...args: never[]): Promise<unknown>;
}

/** The part of a node-redis client this adapter uses (a connected `createClient()`). */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  multi(): NodeRedisMulti;
  duplicate(overrides?: { name?: string; disableOfflineQueue?: boolean }): NodeRedisSubscriber;
}

/** A duplicated client used only to subscribe. */
export interface NodeRedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  on(event: 'error' | 'end', fn: (error?: unknown) => void): unknown;
  destroy(): void;
  close?(): Promise<void>;
}

/** The part of a node-redis cluster MULTI (`cluster.multi()`) this adapter uses. */
export interface NodeRedisClusterMulti {
  addCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): unknown;
  exec(...args: never[]): Promise<unknown>;
}

/**
 * The part of a node-redis cluster (a connected `createCluster()`) this adapter uses. Every key
 * of one jobs table shares the hash tag `{table}`, so each script runs on the one shard that
 * holds the table; your own keys in the same MULTI must carry that tag too.
 */
export interface NodeRedisCluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  multi(): NodeRedisClusterMulti;
  duplicate(overrides?: { defaults?: Record<string, unknown> }): NodeRedisSubscriber;
  /** Not called: its presence tells a cluster from a single client. */
  nodeClient(...args: never[]): unknown;
}

/** The node-redis adapter. `Tx` is the object `client.multi()` (or `cluster.multi()`) returns. */
export interface NodeRedisAdapter extends Adapter<NodeRedisMulti | NodeRedisClusterMulti, RedisSession> {
  /**
   * Tells the backend you will not EXEC `multi`: unique keys it reserved are freed at once.
   * (ioredis has `multi.discard()`; node-redis has nothing to hook.)
   */
  discard(multi: NodeRedisMulti | NodeRedisClusterMulti): void;
}

/**
 * How the adapter talks to the client, the same way for a single client and a cluster: a
 * cluster is told which key routes each command (to the shard serving its slot).
 */
interface Wire {
  send(firstKey: string | undefined, args: string[]): Promise<unknown>;
  add(tx: NodeRedisMulti | NodeRedisClusterMulti, firstKey: string | undefined, args: string[]): void;
  subscriber(name: string): NodeRedisSubscriber;
}

function isCluster(client: NodeRedisClient | NodeRedisCluster): client is NodeRedisCluster {
  return typeof (client as Partial<NodeRedisCluster>).nodeClient === 'function';
}

function wireOf(client: NodeRedisClient | NodeRedisCluster): Wire {
  if (!isCluster(client)) {
    return {
      send: (_key, args) => client.sendCommand(args),
      add: (tx, _key, args) => void (tx as NodeRedisMulti).addCommand(args),
      // No offline queue, so a lost connection is reported, not hidden.
      subscriber: (name) => client.duplicate({ name, disableOfflineQueue: true }),
    };
  }
  return {
    // Not read-only: every read goes to the master, which has every write of the table.
    send: (key, args) => client.sendCommand(key, false, args),
    add: (tx, key, args) => void (tx as NodeRedisClusterMulti).addCommand(key, false, args),
    // `duplicate()` replaces `defaults` as a whole: merged here, or the user's credentials and
    // TLS would be lost and every node would refuse the subscriber. (`_options` holds what the
    // cluster was created with; node-redis has no public getter for it.)
    subscriber: (name) => {
      const defaults = (client as { _options?: { defaults?: Record<string, unknown> } })._options?.defaults;
      return client.duplicate({ defaults: { ...defaults, name, disableOfflineQueue: true } });
    },
  };
}

function portOf(wire: Wire): RedisPort {
  const text = (args: readonly RedisArg[]): string[] => args.map(String);
  return {
    async run(script: RedisScript, keys: readonly string[], args: readonly RedisArg[]) {
      try {
        return await wire.send(keys[0], ['EVALSHA', script.sha, String(keys.length), ...keys, ...text(args)]);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return wire.send(keys[0], ['EVAL', script.source, String(keys.length), ...keys, ...text(args)]);
      }
    },
    // Each command of the backend names its key first (`SMEMBERS key`, `ZCOUNT key …`), except
    // `INFO server` and `CONFIG GET name`, which any node answers (routed by their second word).
    command: (args) => wire.send(args.length > 1 ? String(args[1]) : undefined, text(args)),
  };
}

function isMulti(tx: unknown): tx is NodeRedisMulti | NodeRedisClusterMulti {
  const m = tx as Partial<NodeRedisMulti> | null;
  // A MULTI has addCommand and exec; a client has neither addCommand nor a pending command list.
  return typeof m === 'object' && m !== null && typeof m.addCommand === 'function' && typeof m.exec === 'function';
}

/** Options of {@link redisAdapter}. */
export interface NodeRedisAdapterOptions {
  /**
   * What a worker does at start when the server's settings could lose jobs (maxmemory-policy
   * other than noeviction; no append-only file; appendfsync no): `'warn'` (default) logs each
   * risk once, `'require'` refuses to start with a `DurabilityError`, `'ignore'` skips the check.
   * A server that refuses `CONFIG GET` (some managed services) gets one warning, never a refusal.
   */
  durability?: RedisDurability;
}

/**
 * Creates the adapter on a connected node-redis client, or a connected cluster
 * (`createCluster()`). Workers open one more connection for wake-ups.
 */
export function redisAdapter(client: NodeRedisClient | NodeRedisCluster, options: NodeRedisAdapterOptions = {}): NodeRedisAdapter {
  const durability = options.durability ?? 'warn';
  const wire = wireOf(client);
  const port = portOf(wire);
  const autocommit: RedisSession = { port, multi: null };
  type Multi = NodeRedisMulti | NodeRedisClusterMulti;
  type Known = { port: RedisMultiPort; life: MultiLifecycle };
  const known = new WeakMap<Multi, Known>();
  const multiOf = (tx: Multi): Known => {
    let k = known.get(tx);
    if (k) return k;
    // exec is wrapped (once) so the backend learns when the MULTI has run; node-redis has no discard.
    const life = watchMulti(tx, { discard: false });
    k = {
      port: {
        queue(script, keys, args) {
          wire.add(tx, keys[0], ['EVAL', script.source, String(keys.length), ...keys, ...args.map(String)]);
        },
        onEnd: life.onEnd,
      },
      life,
    };
    known.set(tx, k);
    return k;
  };
  return {
    name: 'redis',
    backend: (o) => new RedisBackend(o.table, o.notify === undefined ? { durability } : { notify: o.notify, durability }),
    bind(tx) {
      if (!isMulti(tx)) throw new NotInTransactionError('redisAdapter: enqueue() needs the object of client.multi(); the client itself would not commit the job with your writes.');
      return { port, multi: multiOf(tx).port };
    },
    autocommit: () => autocommit,
    // Every write of the dispatcher is one script, atomic on the server: no transaction needed.
    transaction: (fn) => fn(autocommit),
    afterCommit(tx, fn) {
      // Called once EXEC has answered (never for a MULTI given up): wakes this process's idle workers at once.
      if (isMulti(tx)) multiOf(tx).life.onCommit(fn);
    },
    discard(multi) {
      known.get(multi)?.life.end();
    },
    async listen(channel, onNotification, onError): Promise<Listener> {
      // Named for CLIENT LIST.
      const sub = wire.subscriber(`concordia:listen:${channel}`);
      let closed = false;
      const fail = (error: unknown): void => {
        if (closed) return;
        closed = true;
        sub.destroy();
        onError(error);
      };
      sub.on('error', (error) => fail(error ?? new Error('Redis subscription connection failed')));
      sub.on('end', () => fail(new Error('Redis subscription connection ended')));
      try {
        await sub.connect();
        await sub.subscribe(channel, (message) => onNotification(message));
      } catch (error) {
        closed = true;
        sub.destroy();
        throw error;
      }
      return {
        async close() {
          if (closed) return;
          closed = true;
          sub.destroy();
        },
      };
    },
  };
}
