/**
 * Walks the `state` index over several `<state>#<shard>` partitions at once, in id order (newest
 * or oldest first), as if it were one index: a k-way merge that reads each partition in short
 * pages only as far as the walk goes. Ids are UUIDv7, so id order is creation order.
 *
 * @internal
 */
import { QueryCommand, type AttributeValue, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { JobState } from '../../job.ts';
import type { DynamoOps } from './dynamodb-ops.ts';
import { S } from './item-codec.ts';
import { INDEX } from './table-definition.ts';

/** One index entry: what the `state` index projects. */
export interface StateEntry {
  id: string;
  state: JobState;
  queue: string;
  kind: string;
  createdAt: number;
}

interface Partition {
  xs: string;
  buf: StateEntry[];
  start: QueryCommandInput['ExclusiveStartKey'];
  done: boolean;
}

export class StateWalk {
  readonly #parts: Partition[];
  readonly #desc: boolean;
  readonly #cursor: string | null;
  /** Entries read per partition per page: small at first, larger as the walk goes on. */
  #page = 25;

  readonly ops: DynamoOps;

  constructor(
    ops: DynamoOps,
    states: readonly JobState[],
    shards: number,
    order: 'newest' | 'oldest',
    cursor: string | null,
  ) {
    this.ops = ops;
    this.#desc = order === 'newest';
    this.#cursor = cursor;
    this.#parts = states.flatMap((st) => Array.from({ length: shards }, (_, sh) => ({ xs: `${st}#${sh}`, buf: [], start: undefined, done: false })));
  }

  async #fill(p: Partition): Promise<void> {
    const values: Record<string, AttributeValue> = { ':xs': S(p.xs) };
    let condition = 'xs = :xs';
    if (this.#cursor !== null) {
      condition += this.#desc ? ' AND id < :cursor' : ' AND id > :cursor';
      values[':cursor'] = S(this.#cursor);
    }
    const res = await this.ops.client.send(
      new QueryCommand({
        TableName: this.ops.table,
        IndexName: INDEX.state,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        ScanIndexForward: !this.#desc,
        Limit: this.#page,
        ...(p.start && { ExclusiveStartKey: p.start }),
      }),
    );
    const state = p.xs.slice(0, p.xs.lastIndexOf('#')) as JobState;
    for (const it of res.Items ?? []) {
      p.buf.push({ id: it['id']?.S ?? '', state, queue: it['q']?.S ?? '', kind: it['k']?.S ?? '', createdAt: Number(it['ca']?.N ?? 0) });
    }
    p.start = res.LastEvaluatedKey;
    if (!p.start) p.done = true;
  }

  /** The next entry of the walk, or null at its end. */
  async next(): Promise<StateEntry | null> {
    const empty = this.#parts.filter((p) => p.buf.length === 0 && !p.done);
    if (empty.length > 0) {
      await Promise.all(empty.map((p) => this.#fill(p)));
      this.#page = Math.min(this.#page * 2, 500);
      // A page may come back empty with more to read (DynamoDB stops at 1 MB): fill again.
      return this.next();
    }
    let best: Partition | null = null;
    for (const p of this.#parts) {
      const head = p.buf[0];
      if (!head) continue;
      if (!best || (this.#desc ? head.id > best.buf[0]!.id : head.id < best.buf[0]!.id)) best = p;
    }
    return best ? best.buf.shift()! : null;
  }

  /** Up to `n` more entries. */
  async take(n: number): Promise<StateEntry[]> {
    const out: StateEntry[] = [];
    while (out.length < n) {
      const e = await this.next();
      if (!e) break;
      out.push(e);
    }
    return out;
  }
}
