/**
 * The two Redis clients' cluster APIs behind one small shape, so spec/redis/redis-cluster.spec.ts
 * runs the same tests on ioredis's `Cluster` and node-redis's `createCluster()`.
 */
import { Cluster, type ChainableCommander } from 'ioredis';
import { createCluster } from 'redis';
import { ioredisAdapter } from '../../adapters/ioredis/ioredis-adapter.ts';
import { redisAdapter, type NodeRedisCluster, type NodeRedisClusterMulti } from '../../adapters/redis/redis-adapter.ts';
import type { Adapter } from '../../lib/backend/adapter.ts';

/** One client library's cluster, as the tests use it. */
export interface ClusterClientKit {
  readonly name: string;
  /** A new connected cluster client (closed by {@link close}). */
  connect(): Promise<object>;
  adapter(client: object): Adapter<unknown>;
  multi(client: object): unknown;
  /** Queues `HSET key fields…` in the MULTI. */
  hset(multi: unknown, key: string, fields: Record<string, string>): void;
  /** Sends the MULTI; rejects when Redis or the client refuses it, or when one of its commands failed. */
  exec(multi: unknown): Promise<void>;
  close(client: object): Promise<void>;
}

type Nodes = readonly { host: string; port: number }[];

export function ioredisKit(nodes: Nodes, password: string): ClusterClientKit {
  return {
    name: 'ioredis',
    async connect() {
      return new Cluster([...nodes], { redisOptions: { password } });
    },
    adapter: (client) => ioredisAdapter(client as Cluster) as Adapter<unknown>,
    multi: (client) => (client as Cluster).multi(),
    hset: (multi, key, fields) => void (multi as ChainableCommander).hset(key, fields),
    async exec(multi) {
      const results = await (multi as ChainableCommander).exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    },
    async close(client) {
      (client as Cluster).disconnect();
    },
  };
}

/** node-redis's cluster type with the methods the tests call (its full generic type is not needed). */
type NodeCluster = NodeRedisCluster & { multi(): NodeRedisClusterMulti & { hSet(key: string, fields: Record<string, string>): unknown }; close(): Promise<void> };

export function nodeRedisKit(nodes: Nodes, password: string): ClusterClientKit {
  return {
    name: 'node-redis',
    async connect() {
      const cluster = createCluster({ rootNodes: nodes.map((n) => ({ socket: { host: n.host, port: n.port } })), defaults: { password } });
      return (await cluster.connect()) as unknown as NodeCluster;
    },
    adapter: (client) => redisAdapter(client as NodeCluster) as Adapter<unknown>,
    multi: (client) => (client as NodeCluster).multi(),
    hset: (multi, key, fields) => void (multi as ReturnType<NodeCluster['multi']>).hSet(key, fields),
    async exec(multi) {
      // node-redis rejects the whole EXEC when one of its commands fails.
      await (multi as NodeRedisClusterMulti).exec();
    },
    async close(client) {
      await (client as NodeCluster).close();
    },
  };
}
