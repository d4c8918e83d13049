/**
 * The DynamoDB table of one Concordia jobs "table": its key, its indexes, and the shard each job
 * lives in. Every item has one string hash key, `pk`:
 *
 * - `j#<id>`: a job (attributes in item-codec.ts);
 * - `u#<unique key>`: the guard item of a unique key (dynamodb-unique.ts);
 * - `paused`: the set of paused queues (the pause marker).
 *
 * Five sparse global secondary indexes, each partitioned by `<something>#<shard>` so no index
 * key is one hot partition. An item appears in an index only while it carries that index's
 * partition attribute, which the state changes set and remove:
 *
 * | index   | partition (attr)      | sort (attr)                   | holds                            |
 * |---------|-----------------------|-------------------------------|----------------------------------|
 * | `ready` | `<queue>#<shard>` rp  | `<prio>#<run_at>#<id>` rs     | available jobs that were due     |
 * | `sched` | `<queue>#<shard>` sp  | `<run_at>#<prio>#<id>` ss     | available jobs due later         |
 * | `lease` | `<shard>` lp          | lease expiry ms (N) le        | running jobs                     |
 * | `state` | `<state>#<shard>` xs  | job id id                     | every job (dashboard, lists)     |
 * | `fin`   | `<state>#<shard>` fp  | finalized ms (N) fa           | completed, cancelled, discarded  |
 *
 * A claim reads only `ready` (and promotes the due part of `sched`), so jobs scheduled for later
 * are never re-read by every claim. `ready`, `sched`, `lease` and `fin` project keys only (a
 * claim reads the whole item through its conditional write anyway); `state` also projects the
 * never-changing queue, kind and creation time, so dashboard filters on them need no item reads
 * and heartbeats (which change the lease) never write to it.
 *
 * @internal
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const INDEX = { ready: 'ready', sched: 'sched', lease: 'lease', state: 'state', fin: 'fin' } as const;

/** Default number of shards of every index partition (see docs: how many a throughput needs). */
export const DEFAULT_SHARDS = 4;
/** The most shards a table may declare: a claim may read one partition per shard and queue. */
export const MAX_SHARDS = 1024;

/** Priority (−1000…1000) as 4 digits that sort as text: lower first. */
export function priorityText(priority: number): string {
  return String(priority + 1000).padStart(4, '0');
}

/** Epoch milliseconds as 15 digits (to year 33658), so times sort as text. */
export function msText(ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(15, '0');
}

/**
 * The shard of a job: from the random tail of its UUIDv7, so shards fill evenly whatever the
 * queue, and every process agrees without storing it. Changing the shard count later moves jobs
 * to their new shard at their next state change; lowering it strands jobs in the upper shards
 * until then, so only raise it.
 */
export function shardOf(id: string, shards: number): number {
  return Number.parseInt(id.slice(-8), 16) % shards;
}

/** The job item's key. */
export function jobKey(id: string): { pk: { S: string } } {
  return { pk: { S: `j#${id}` } };
}

export const PAUSED_PK = 'paused';

/**
 * The `CreateTable` input of a jobs table: send it with `new CreateTableCommand(...)` (or copy it
 * into CloudFormation, CDK or Terraform). On-demand billing by default; pass
 * `{ BillingMode: 'PROVISIONED', ... }` overrides as `extra` for provisioned capacity.
 *
 * @example
 * ```ts
 * await client.send(new CreateTableCommand(dynamodbTableDefinition('concordia_jobs')));
 * ```
 */
export function dynamodbTableDefinition(table: string, extra: Partial<CreateTableCommandInput> = {}): CreateTableCommandInput {
  const keysOnly = { ProjectionType: 'KEYS_ONLY' as const };
  const gsi = (name: string, hash: string, range: string, projection: NonNullable<CreateTableCommandInput['GlobalSecondaryIndexes']>[number]['Projection'] = keysOnly) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: range, KeyType: 'RANGE' as const },
    ],
    Projection: projection,
  });
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'rp', AttributeType: 'S' },
      { AttributeName: 'rs', AttributeType: 'S' },
      { AttributeName: 'sp', AttributeType: 'S' },
      { AttributeName: 'ss', AttributeType: 'S' },
      { AttributeName: 'lp', AttributeType: 'S' },
      { AttributeName: 'le', AttributeType: 'N' },
      { AttributeName: 'xs', AttributeType: 'S' },
      { AttributeName: 'id', AttributeType: 'S' },
      { AttributeName: 'fp', AttributeType: 'S' },
      { AttributeName: 'fa', AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      gsi(INDEX.ready, 'rp', 'rs'),
      gsi(INDEX.sched, 'sp', 'ss'),
      gsi(INDEX.lease, 'lp', 'le'),
      gsi(INDEX.state, 'xs', 'id', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['q', 'k', 'ca'] }),
      gsi(INDEX.fin, 'fp', 'fa'),
    ],
    ...extra,
  };
}
