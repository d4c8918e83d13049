/**
 * Job items: how a job is written as DynamoDB attributes and read back. Short attribute names,
 * because DynamoDB bills names with values (every read and write unit counts item bytes).
 *
 * | attr | meaning            | attr | meaning                      |
 * |------|--------------------|------|------------------------------|
 * | id   | job id (UUIDv7)    | aa   | attempted at (ms)            |
 * | q    | queue              | fa   | finalized at (ms)            |
 * | k    | kind               | lt   | lease token                  |
 * | a    | args (JSON text)   | lb   | locked by (worker id)        |
 * | st   | state              | le   | lease expires at (ms)        |
 * | p    | priority           | er   | errors (list of JSON texts)  |
 * | tn   | attempt            | md   | metadata (JSON text)         |
 * | ma   | max attempts       | uk   | unique key                   |
 * | ra   | run at (ms)        | us   | unique states (bit mask)     |
 * | ca   | created at (ms)    |      |                              |
 *
 * Plus the index attributes of table-definition.ts (rp, rs, sp, ss, lp, xs, fp).
 *
 * @internal
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { STATE_BITS, type InsertRow, type JobErrorEntry, type JobState } from '../../job.ts';
import { msText, priorityText, shardOf } from './table-definition.ts';

export type Item = Record<string, AttributeValue>;

export const S = (v: string): AttributeValue => ({ S: v });
export const N = (v: number): AttributeValue => ({ N: String(v) });

/** A job item, decoded. */
export interface JobItem {
  id: string;
  queue: string;
  kind: string;
  args: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
  attemptedAt: number | null;
  finalizedAt: number | null;
  leaseToken: string | null;
  lockedBy: string | null;
  leaseExpiresAt: number | null;
  /** Each entry as stored (JSON text). */
  errors: string[] | null;
  metadata: string | null;
  uniqueKey: string | null;
  uniqueStates: number | null;
}

function num(v: AttributeValue | undefined): number | null {
  return v?.N === undefined ? null : Number(v.N);
}

export function decodeJob(item: Item): JobItem {
  return {
    id: item['id']?.S ?? '',
    queue: item['q']?.S ?? '',
    kind: item['k']?.S ?? '',
    args: item['a']?.S ?? '{}',
    state: (item['st']?.S ?? 'available') as JobState,
    priority: num(item['p']) ?? 0,
    attempt: num(item['tn']) ?? 0,
    maxAttempts: num(item['ma']) ?? 1,
    runAt: num(item['ra']) ?? 0,
    createdAt: num(item['ca']) ?? 0,
    attemptedAt: num(item['aa']),
    finalizedAt: num(item['fa']),
    leaseToken: item['lt']?.S ?? null,
    lockedBy: item['lb']?.S ?? null,
    leaseExpiresAt: num(item['le']),
    errors: item['er']?.L ? item['er'].L.map((e) => e.S ?? 'null') : null,
    metadata: item['md']?.S ?? null,
    uniqueKey: item['uk']?.S ?? null,
    uniqueStates: num(item['us']),
  };
}

/** The key a unique job keeps while its state is one its mask covers (as the SQL databases clear the column). */
export function liveUniqueKey(j: JobItem): string | null {
  if (j.uniqueKey === null || j.uniqueStates === null) return null;
  return (j.uniqueStates & STATE_BITS[j.state]) !== 0 ? j.uniqueKey : null;
}

/** The error entries, parsed (an entry that is not JSON is kept as its text). */
export function parsedErrors(j: JobItem): JobErrorEntry[] | null {
  if (j.errors === null) return null;
  return j.errors.map((e) => {
    try {
      return JSON.parse(e) as JobErrorEntry;
    } catch {
      return { at: '', message: e };
    }
  });
}

/** `ready` index attributes of an available, due job. */
export function readyAttrs(queue: string, priority: number, runAt: number, id: string, shards: number): Item {
  return { rp: S(`${queue}#${shardOf(id, shards)}`), rs: S(`${priorityText(priority)}#${msText(runAt)}#${id}`) };
}

/** `sched` index attributes of an available job due later. */
export function schedAttrs(queue: string, priority: number, runAt: number, id: string, shards: number): Item {
  return { sp: S(`${queue}#${shardOf(id, shards)}`), ss: S(`${msText(runAt)}#${priorityText(priority)}#${id}`) };
}

/** The index attributes of an available job: `ready` when due at `now`, `sched` otherwise. */
export function waitingAttrs(queue: string, priority: number, runAt: number, id: string, shards: number, now: number): Item {
  return runAt <= now ? readyAttrs(queue, priority, runAt, id, shards) : schedAttrs(queue, priority, runAt, id, shards);
}

/** `state` index partition. */
export function stateAttr(state: JobState, id: string, shards: number): AttributeValue {
  return S(`${state}#${shardOf(id, shards)}`);
}

/** A new job's item. */
export function newJobItem(id: string, r: InsertRow, now: number, shards: number, unique?: { key: string; states: number }): Item {
  const runAt = r.runAt ? r.runAt.getTime() : now + r.delayMs;
  const item: Item = {
    pk: S(`j#${id}`),
    id: S(id),
    q: S(r.queue),
    k: S(r.kind),
    a: S(r.argsJson),
    st: S('available'),
    p: N(r.priority),
    tn: N(0),
    ma: N(r.maxAttempts),
    ra: N(runAt),
    ca: N(now),
    xs: stateAttr('available', id, shards),
    ...waitingAttrs(r.queue, r.priority, runAt, id, shards, now),
  };
  if (r.metadataJson !== null) item['md'] = S(r.metadataJson);
  if (unique) {
    item['uk'] = S(unique.key);
    item['us'] = N(unique.states);
  }
  return item;
}

/**
 * The SET and REMOVE parts, and values, that move a job into `state` from wherever it is, with
 * its index attributes to match. `extra` adds more SET clauses.
 */
export function transition(
  j: Pick<JobItem, 'id' | 'queue' | 'priority' | 'runAt'>,
  state: JobState,
  shards: number,
  now: number,
  values: Item,
  opts: { runAt?: number; set?: string[]; remove?: string[] } = {},
): { expression: string; values: Item } {
  const set: string[] = ['st = :to_st', 'xs = :to_xs', ...(opts.set ?? [])];
  const remove = new Set<string>(opts.remove ?? []);
  const v: Item = { ...values, ':to_st': S(state), ':to_xs': stateAttr(state, j.id, shards) };
  const drop = (...names: string[]) => names.forEach((n) => remove.add(n));
  if (state === 'available') {
    const runAt = opts.runAt ?? j.runAt;
    const idx = waitingAttrs(j.queue, j.priority, runAt, j.id, shards, now);
    for (const [name, value] of Object.entries(idx)) {
      set.push(`${name} = :to_${name}`);
      v[`:to_${name}`] = value;
    }
    drop(...['rp', 'rs', 'sp', 'ss'].filter((n) => !(n in idx)), 'lp', 'le', 'fp', 'fa');
  } else if (state === 'running') {
    drop('rp', 'rs', 'sp', 'ss', 'fp', 'fa');
  } else {
    set.push('fp = :to_fp', 'fa = :to_fa');
    v[':to_fp'] = S(`${state}#${shardOf(j.id, shards)}`);
    v[':to_fa'] = N(now);
    drop('rp', 'rs', 'sp', 'ss', 'lp', 'le');
  }
  for (const s of set) remove.delete(s.split(' ')[0]!);
  const expression = `SET ${set.join(', ')}${remove.size > 0 ? ` REMOVE ${[...remove].join(', ')}` : ''}`;
  return { expression, values: v };
}
