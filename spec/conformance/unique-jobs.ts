/**
 * Conformance tests of unique jobs (`enqueueUnique`), run by {@link exerciseAdapter} for every
 * adapter × database pair on the real database.
 */
import { expect } from 'vitest';
import { createJobs, defineJob, FakeClock, type Jobs, type UniqueEnqueueResult, type Worker, type WorkOptions } from '../../lib/index.ts';
import { SchemaMismatchError } from '../../lib/errors.ts';
import { ddl, quoteTable } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';

/** What the suite lends these tests. */
export interface SuiteContext {
  db: 'postgres' | 'mysql' | 'sqlite' | 'memory' | 'redis' | 'dynamodb' | 'firestore';
  harness(): Harness;
  test(name: string, fn: () => Promise<void>, timeout?: number): void;
  sqlTest(name: string, fn: () => Promise<void>, timeout?: number): void;
  client(defs: Parameters<typeof createJobs>[0]['jobs'], extra?: { clock?: FakeClock }): Jobs<unknown>;
  start(jobs: Jobs<unknown>, options?: WorkOptions): Promise<Worker>;
}

/** A latch: `wait` resolves once `open()` is called. */
function latch(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

class RollBack extends Error {}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function uniqueJobTests(s: SuiteContext): void {
  const { test, sqlTest } = s;

  async function rowsOfKind(kind: string) {
    return (await s.harness().rows()).filter((r) => r.kind === kind);
  }

  test('enqueueUnique: a duplicate within the period is refused; other args or the next period are inserted', async () => {
    const h = s.harness();
    const t0 = Date.UTC(2030, 0, 1, 0, 0, 10);
    const clock = new FakeClock(t0);
    const sync = defineJob('unique_period', { handler: async () => {} });
    const jobs = s.client([sync], { clock });
    const opts = { queue: 'uniq', unique: { periodMs: 60_000 } };

    const first = await h.inTransaction((tx) => jobs.enqueueUnique(tx, sync({ user: 1 }), opts));
    expect(first.inserted).toBe(true);
    // Refused, in another transaction and inside the same one (its own uncommitted job counts).
    const again = await h.inTransaction((tx) => jobs.enqueueUnique(tx, sync({ user: 1 }), opts));
    expect(again).toEqual({ inserted: false, id: first.id });
    const [inTx1, inTx2] = await h.inTransaction(async (tx) => [
      await jobs.enqueueUnique(tx, sync({ user: 3 }), opts),
      await jobs.enqueueUnique(tx, sync({ user: 3 }), opts),
    ]);
    expect(inTx1!.inserted).toBe(true);
    expect(inTx2).toEqual({ inserted: false, id: inTx1!.id });
    expect(await jobs.enqueueUniqueAutocommit(sync({ user: 1 }), opts)).toEqual({ inserted: false, id: first.id });
    // Other args, or the same args compared on a subset of keys.
    expect((await jobs.enqueueUniqueAutocommit(sync({ user: 2 }), opts)).inserted).toBe(true);
    const byUser = { queue: 'uniq', unique: { by: { args: ['user'] } } };
    const a = await jobs.enqueueUniqueAutocommit(sync({ user: 7, note: 'a' }), byUser);
    expect(a.inserted).toBe(true);
    expect(await jobs.enqueueUniqueAutocommit(sync({ user: 7, note: 'b' }), byUser)).toEqual({ inserted: false, id: a.id });
    // The next period starts a new key; within it the duplicate is refused again.
    clock.set(t0 + 50_000);
    const next = await h.inTransaction((tx) => jobs.enqueueUnique(tx, sync({ user: 1 }), opts));
    expect(next.inserted).toBe(true);
    expect(next.id).not.toBe(first.id);
    expect((await jobs.enqueueUniqueAutocommit(sync({ user: 1 }), opts)).inserted).toBe(false);

    const rows = await rowsOfKind('unique_period');
    expect(rows.map((r) => (r.args as { user: number }).user).sort()).toEqual([1, 1, 2, 3, 7]);
    expect(rows.every((r) => r.state === 'available' && r.queue === 'uniq')).toBe(true);
  });

  test('enqueueUnique: the key follows the covered states (completed, cancelled)', async () => {
    const h = s.harness();
    const done = defineJob('unique_states', { handler: async () => {} });
    const jobs = s.client([done]);
    const wide = { queue: 'uniq_states', unique: { key: `wide:${h.table}` } };
    const narrow = { queue: 'uniq_states', unique: { key: `narrow:${h.table}`, states: ['available', 'running'] as const } };
    const w1 = await jobs.enqueueUniqueAutocommit(done({ n: 1 }), wide);
    const n1 = await h.inTransaction((tx) => jobs.enqueueUnique(tx, done({ n: 2 }), { ...narrow, unique: { ...narrow.unique, states: [...narrow.unique.states] } }));
    expect([w1.inserted, n1.inserted]).toEqual([true, true]);

    const w = await s.start(jobs, { queues: ['uniq_states'] });
    let completed = 0;
    const bothDone = new Promise<void>((resolve) => w.on('job:completed', () => ++completed === 2 && resolve()));
    await bothDone;
    await w.stop();
    expect((await rowsOfKind('unique_states')).map((r) => r.state)).toEqual(['completed', 'completed']);

    // Default states cover `completed`: still a duplicate of the finished job.
    expect(await jobs.enqueueUniqueAutocommit(done({ n: 3 }), wide)).toEqual({ inserted: false, id: w1.id });
    // [available, running]: the completed job released its key.
    const n2 = await jobs.enqueueUniqueAutocommit(done({ n: 4 }), { ...narrow, unique: { ...narrow.unique, states: [...narrow.unique.states] } });
    expect(n2.inserted).toBe(true);
    expect(n2.id).not.toBe(n1.id);

    // Cancelled is not covered by default: the key is released with the cancel.
    const key = { queue: 'uniq_states', unique: { key: `cancel:${h.table}` } };
    const c1 = await jobs.enqueueUniqueAutocommit(done({ n: 5 }), key);
    expect(await jobs.enqueueUniqueAutocommit(done({ n: 6 }), key)).toEqual({ inserted: false, id: c1.id });
    expect(await jobs.cancel(c1.id!)).toBe(true);
    expect((await jobs.enqueueUniqueAutocommit(done({ n: 7 }), key)).inserted).toBe(true);
  });

  test('enqueueUnique: 32 concurrent callers, half rolling back, leave exactly one job', async () => {
    const h = s.harness();
    const race = defineJob('unique_race', { handler: async () => {} });
    const jobs = s.client([race]);
    const N = 32;
    // SQLite has one writer: its harnesses run one transaction at a time on one connection, so
    // there the transactions run one after another (each still decides while holding the key).
    const sequential = s.db === 'sqlite';

    for (const round of [0, 1]) {
      const args = { round, table: h.table };
      // Transactions arrive here once their insert returned (a blocked one arrives when the
      // holder of the key has ended). The controller lets them decide one at a time, in
      // arrival order, after the others have had a few turns to pile up on the key.
      const arrived: (() => void)[] = [];
      let wakeController: (() => void) | null = null;
      const arrive = (open: () => void) => {
        arrived.push(open);
        wakeController?.();
      };
      const unexpected: unknown[] = [];
      // Transactions that have ended. Stores whose transaction callbacks run again after a lost
      // race (Firestore) arrive more than once: the controller lets every arrival go until all have ended.
      let finished = 0;
      const one = async (i: number) => {
        try {
          return await attempt(i);
        } finally {
          finished++;
          wakeController?.();
        }
      };
      const attempt = async (i: number) => {
        let result: UniqueEnqueueResult | null = null;
        let hasArrived = false;
        try {
          await h.inTransaction(async (tx) => {
            result = await jobs.enqueueUnique(tx, race(args), { queue: 'uniq_race', unique: {} });
            const gate = latch();
            hasArrived = true;
            arrive(gate.open);
            await gate.wait;
            if ((i + round) % 2 === 0) throw new RollBack();
          });
          return { committed: true, result: result as UniqueEnqueueResult | null };
        } catch (error) {
          if (!(error instanceof RollBack)) unexpected.push(error);
          if (!hasArrived) arrive(() => {});
          return { committed: false, result: result as UniqueEnqueueResult | null };
        }
      };
      const controller = (async () => {
        for (let released = 0; ; released++) {
          while (arrived.length === 0) {
            if (finished === N) return;
            await new Promise<void>((resolve) => (wakeController = resolve));
          }
          const open = arrived.shift()!;
          for (let k = 0; k < 1 + (released % 4); k++) await tick();
          open();
        }
      })();
      let outcomes: Awaited<ReturnType<typeof one>>[];
      if (sequential) {
        outcomes = [];
        for (let i = 0; i < N; i++) outcomes.push(await one(i));
      } else {
        outcomes = await Promise.all(Array.from({ length: N }, (_, i) => one(i)));
      }
      await controller;

      expect(unexpected.map((e) => String(e))).toEqual([]);
      const committed = outcomes.filter((o) => o.committed);
      expect(committed.length).toBe(N / 2);
      const live = (await rowsOfKind('unique_race')).filter((r) => (r.args as { round: number }).round === round);
      // Never 0 while someone committed, never 2.
      expect(live).toHaveLength(1);
      const winners = committed.filter((o) => o.result?.inserted);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.result!.id).toBe(live[0]!.id);
      // Every committed duplicate named the job that is actually there (or could not see it).
      for (const o of committed) {
        if (o.result && !o.result.inserted && o.result.id !== null) expect(o.result.id).toBe(live[0]!.id);
      }
    }

    // Autocommit callers racing without a transaction: one insert, the others see it.
    const results = await Promise.all(Array.from({ length: N }, () => jobs.enqueueUniqueAutocommit(race({ round: 'auto' }), { queue: 'uniq_race', unique: {} })));
    const ins = results.filter((r) => r.inserted);
    expect(ins).toHaveLength(1);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([ins[0]!.id]));
  }, 60_000);

  test('enqueueUnique refuses bad unique options with typed errors', async () => {
    const j = defineJob('unique_bad', { handler: async () => {} });
    const jobs = s.client([j]);
    const before = (await rowsOfKind('unique_bad')).length;
    await expect(jobs.enqueueUniqueAutocommit(j({}), { unique: { states: ['running'] } })).rejects.toThrow(/available/);
    await expect(jobs.enqueueUniqueAutocommit(j({}), { unique: { states: ['sleeping' as never] } })).rejects.toThrow(/unknown state/);
    await expect(jobs.enqueueUniqueAutocommit(j({}), { unique: { periodMs: 0 } })).rejects.toThrow(/periodMs/);
    await expect(jobs.enqueueUniqueAutocommit(j({}), { unique: { key: '' } })).rejects.toThrow(/key/);
    await expect(jobs.enqueueUniqueAutocommit(j({}), { unique: { key: 'k', periodMs: 10 } })).rejects.toThrow(/either/);
    await expect(jobs.enqueueUniqueAutocommit(j({}), undefined as never)).rejects.toThrow(/unique/);
    expect((await rowsOfKind('unique_bad')).length).toBe(before);
  });

  sqlTest('work() names 0002_unique_jobs.sql when the unique columns are missing', async () => {
    const h = s.harness();
    if (!h.raw || s.db === 'memory' || s.db === 'redis' || s.db === 'dynamodb' || s.db === 'firestore') return;
    const old = `${h.table}_v1`;
    const quoted = quoteTable(s.db, old);
    // The table as migration 0001 alone left it.
    for (const stmt of ddl(s.db, old).filter((st) => !st.includes('unique_'))) await h.raw.execute(stmt, []);
    try {
      const verify = await createJobs({ adapter: h.adapter, table: old }).verify().then(
        () => null,
        (e: unknown) => e,
      );
      expect(verify).toBeInstanceOf(SchemaMismatchError);
      expect((verify as SchemaMismatchError).missingColumns).toEqual(['unique_key', 'unique_states']);
      expect((verify as Error).message).toMatch(/0002_unique_jobs\.sql/);
    } finally {
      await h.raw.execute(`DROP TABLE IF EXISTS ${quoted}`, []);
    }
  });
}
