/**
 * Unique jobs on DynamoDB, through a guard item per key (`pk = u#<key>`). A guard is either
 * `reserved` by an open transaction (a list of the user's that an enqueue appended to, not sent
 * yet) or `held` by a job. A held guard counts while its job exists, still has the key and is in
 * a state the key covers (item-codec.ts `liveUniqueKey`); otherwise the next enqueue takes it over.
 *
 * An enqueue never puts a write that could fail into the user's list when the key is simply held:
 * it reads the guard first and answers with the existing job. When the key is free it reserves it
 * at once (a conditional write of its own, outside the user's list), then appends the job and the
 * guard's conversion to `held`, conditioned on that reservation, to the user's list. Others
 * wanting the key meanwhile wait for the outcome, as they would wait on a row lock in SQL:
 *
 * - the user sends the list: the guard is `held` by the new job, and the waiters see it;
 * - the user drops the list: `discard(items)` releases the reservation at once (adapter); a list
 *   dropped without it keeps the key reserved for `reservationMs`, then anyone may take it over.
 *
 * A list sent after its reservation was taken over fails with `TransactionCanceledException`
 * (its guard write's condition no longer holds), so the key is never held twice.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { UniqueInsertResult, UniqueInsertRow } from '../../job.ts';
import { uuidV7 } from '../../uuid-v7.ts';
import type { DynamoOps } from './dynamodb-ops.ts';
import { appendToList, listState, type DynamoSession } from './dynamodb-session.ts';
import { decodeJob, liveUniqueKey, N, newJobItem, S, type Item } from './item-codec.ts';

export interface UniqueConfig {
  shards: number;
  /** How long a reservation of a list that is never sent nor discarded keeps others waiting. */
  reservationMs: number;
}

type Reserved = { kind: 'reserved' } | { kind: 'taken'; id: string | null };

function guardPk(key: string): string {
  return `u#${key}`;
}

/**
 * Reserves `key` for `token` (waiting while another open list holds it), or tells which job
 * holds it. Times here are the wall clock: reservations are between processes, not jobs.
 */
async function reserve(ops: DynamoOps, cfg: UniqueConfig, key: string, token: string, id: string): Promise<Reserved> {
  const pk = guardPk(key);
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    const guard = await ops.get(pk, true);
    const now = Date.now();
    const reservation: Item = { pk: S(pk), g: S('reserved'), tok: S(token), jid: S(id), exp: N(now + cfg.reservationMs) };
    if (!guard) {
      if (await ops.put(reservation, 'attribute_not_exists(pk)')) return { kind: 'reserved' };
      continue;
    }
    const g = guard['g']?.S;
    const holder = guard['jid']?.S ?? null;
    if (g === 'reserved') {
      // The same list asked for the key twice: its first job is the one.
      if (guard['tok']?.S === token) return { kind: 'taken', id: holder };
      const exp = Number(guard['exp']?.N ?? 0);
      if (exp >= now) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      // A list dropped without discard(): its reservation lapsed.
      if (await ops.put(reservation, 'g = :g AND tok = :old', { ':g': S('reserved'), ':old': S(guard['tok']?.S ?? '') })) return { kind: 'reserved' };
      continue;
    }
    const job = holder ? await ops.get(`j#${holder}`, true) : null;
    if (job && liveUniqueKey(decodeJob(job)) === key) return { kind: 'taken', id: holder };
    // The holder finished into a state the key does not cover, or is gone: take the guard over.
    if (await ops.put(reservation, 'g = :g AND jid = :old', { ':g': S('held'), ':old': S(holder ?? '') })) return { kind: 'reserved' };
  }
}

/** The guard's write that turns this list's reservation into the job's hold. */
function holdGuard(table: string, key: string, token: string, id: string): TransactWriteItem {
  return {
    Put: {
      TableName: table,
      Item: { pk: S(guardPk(key)), g: S('held'), jid: S(id) },
      ConditionExpression: 'tok = :tok',
      ExpressionAttributeValues: { ':tok': S(token) },
    },
  };
}

function putJob(table: string, item: Item): TransactWriteItem {
  return { Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } };
}

export async function insertUnique(ops: DynamoOps, cfg: UniqueConfig, s: DynamoSession, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
  const t = now?.getTime() ?? Date.now();
  const id = uuidV7(Date.now());
  const state = s.items ? listState(s.items) : null;
  // The list's room is checked before the key is reserved: a refused call holds nothing.
  if (s.items) appendToList({ ...s, items: [...s.items] }, [putJob(ops.table, {}), holdGuard(ops.table, row.uniqueKey, '', id)]);
  const token = state ? (state.token ??= randomUUID()) : randomUUID();
  const r = await reserve(ops, cfg, row.uniqueKey, token, id);
  if (r.kind === 'taken') return { inserted: false, id: r.id };
  const writes = [putJob(ops.table, newJobItem(id, row, t, cfg.shards, { key: row.uniqueKey, states: row.uniqueStates })), holdGuard(ops.table, row.uniqueKey, token, id)];
  if (s.items) {
    try {
      appendToList(s, writes);
    } catch (error) {
      await releaseReservation(ops, row.uniqueKey, token);
      throw error;
    }
    state!.reserved.push(row.uniqueKey);
    return { inserted: true, id };
  }
  try {
    await s.client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
  } catch (error) {
    // Not written (or not known to be): free the key now rather than at the reservation's expiry.
    // If the write did commit, the guard is held and this conditional delete changes nothing.
    await releaseReservation(ops, row.uniqueKey, token).catch(() => {});
    throw error;
  }
  return { inserted: true, id };
}

/** Frees a reservation still held by `token` (a list dropped, or a refused append). */
export async function releaseReservation(ops: DynamoOps, key: string, token: string): Promise<void> {
  await ops.delete(guardPk(key), 'g = :g AND tok = :tok', { ':g': S('reserved'), ':tok': S(token) });
}
