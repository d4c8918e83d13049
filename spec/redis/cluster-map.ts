/**
 * Which slot a key hashes to and which node serves that slot, as the cluster itself says
 * (CLUSTER KEYSLOT, CLUSTER SLOTS): the tests pick keys and table names by these answers rather
 * than by names that happen to land somewhere.
 */
import type { Cluster } from 'ioredis';

export interface ClusterMap {
  /** The slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The port of the master serving `slot`. */
  nodeOf(slot: number): number;
  /** The first `prefix<n>` key whose slot passes `test`. */
  keyWhere(prefix: string, test: (slot: number) => boolean): Promise<string>;
  /** Two table names (`prefix<n>`) whose hash tags `{name}` are served by different masters. */
  tablesOnDifferentNodes(prefix: string): Promise<[string, string]>;
}

/** Reads the slot ranges of `client`'s cluster once; the test cluster does not reshard. */
export async function clusterMap(client: Cluster): Promise<ClusterMap> {
  // Each entry: first slot, last slot, then the master (host, port, id) and any replicas.
  const ranges = (await client.cluster('SLOTS')).map(([from, to, master]) => ({ from, to, port: Number(master![1]) }));
  const slotOf = async (key: string): Promise<number> => Number(await client.cluster('KEYSLOT', key));
  const nodeOf = (slot: number): number => {
    const range = ranges.find((r) => slot >= r.from && slot <= r.to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return range.port;
  };
  const keyWhere = async (prefix: string, test: (slot: number) => boolean): Promise<string> => {
    for (let n = 0; n < 1_000; n++) if (test(await slotOf(`${prefix}${n}`))) return `${prefix}${n}`;
    throw new Error(`no key ${prefix}<n> passes the test`);
  };
  return {
    slotOf,
    nodeOf,
    keyWhere,
    async tablesOnDifferentNodes(prefix) {
      const first = `${prefix}0`;
      const firstNode = nodeOf(await slotOf(`{${first}}`));
      for (let n = 1; n < 1_000; n++) if (nodeOf(await slotOf(`{${prefix}${n}}`)) !== firstNode) return [first, `${prefix}${n}`];
      throw new Error(`no table ${prefix}<n> lands on another node than ${first}`);
    },
  };
}
