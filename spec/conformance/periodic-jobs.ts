/**
 * Conformance tests of periodic (cron) jobs, run by {@link exerciseAdapter} for every adapter ×
 * database pair. Time is a FakeClock: slots fire when the test advances it.
 */
import { expect } from 'vitest';
import { defineJob, FakeClock, InvalidIdentifierError, InvalidOptionError, InvalidScheduleError, periodic, slotKey, type Worker } from '../../lib/index.ts';
import type { SuiteContext } from './unique-jobs.ts';

const MINUTE = 60_000;

export function periodicJobTests(s: SuiteContext): void {
  const { test } = s;

  /** Workers that serve another queue and poll rarely: only their schedulers act. */
  async function workers(jobs: ReturnType<SuiteContext['client']>, n: number, periodicDefs: ReturnType<typeof periodic>[]): Promise<Worker[]> {
    const list: Worker[] = [];
    for (let i = 0; i < n; i++) list.push(await s.start(jobs, { queues: ['cron_idle'], pollIntervalMs: 3_600_000, periodic: periodicDefs }));
    return list;
  }
  const settled = (ws: Worker[]) => Promise.all(ws.map((w) => w.scheduler!.settled()));

  /** The slots enqueued for `kind`, as ISO times, sorted, duplicates kept. */
  async function slotsOf(kind: string): Promise<string[]> {
    const rows = (await s.harness().rows()).filter((r) => r.kind === kind);
    return rows.map((r) => (r.metadata as { slot: string }).slot).sort();
  }

  test('periodic: three workers with the same cron job enqueue each slot exactly once', async () => {
    const t0 = Date.UTC(2030, 3, 1, 0, 0, 30);
    const clock = new FakeClock(t0);
    const tick = defineJob('cron_tick', { handler: async () => {} });
    const jobs = s.client([tick], { clock });
    const def = periodic('every-minute', '* * * * *', tick({ source: 'cron' }), { queue: 'cron_q' });
    const ws = await workers(jobs, 3, [def]);
    await settled(ws);
    for (let i = 0; i < 4; i++) {
      await clock.advance(MINUTE);
      await settled(ws);
    }
    await Promise.all(ws.map((w) => w.stop()));
    const minute = (m: number) => new Date(Date.UTC(2030, 3, 1, 0, m)).toISOString();
    // The slot just before start (catch-up), then one per minute: never two of the same slot.
    expect(await slotsOf('cron_tick')).toEqual([0, 1, 2, 3, 4].map(minute));
    const rows = (await s.harness().rows()).filter((r) => r.kind === 'cron_tick');
    expect(rows.every((r) => r.queue === 'cron_q' && (r.args as { source: string }).source === 'cron')).toBe(true);
    expect(slotKey('every-minute', Date.UTC(2030, 3, 1))).toBe('cron:every-minute:2030-04-01T00:00:00.000Z');
  });

  test('periodic: after downtime only the most recent missed slot is enqueued', async () => {
    const t0 = Date.UTC(2030, 4, 1, 0, 0, 5);
    const clock = new FakeClock(t0);
    const catchUp = defineJob('cron_catch_up', { handler: async () => {} });
    const jobs = s.client([catchUp], { clock });
    const def = periodic('catch-up', '* * * * *', catchUp({}), { queue: 'cron_q' });
    // Hourly, but a missed slot older than 5 minutes is skipped.
    const hourly = periodic('hourly', '0 * * * *', catchUp({ hourly: true }), { queue: 'cron_q', catchUpMs: 5 * MINUTE });
    const [first] = await workers(jobs, 1, [def]);
    await settled([first!]);
    await first!.stop();
    // Ten minutes down; the next worker catches up one minute slot, not ten, and skips the
    // hourly slot (10 minutes old, beyond its catchUpMs).
    clock.set(t0 + 10 * MINUTE);
    const [second] = await workers(jobs, 1, [def, hourly]);
    await settled([second!]);
    await second!.stop();
    expect(await slotsOf('cron_catch_up')).toEqual(['2030-05-01T00:00:00.000Z', '2030-05-01T00:10:00.000Z']);
  });

  test('periodic: { everyMs } fires on epoch-aligned slots', async () => {
    const t0 = Date.UTC(2030, 5, 1, 0, 0, 7);
    const clock = new FakeClock(t0);
    const beat = defineJob('cron_every', { handler: async () => {} });
    const jobs = s.client([beat], { clock });
    const ws = await workers(jobs, 2, [periodic('beat', { everyMs: 15_000 }, beat({}), { queue: 'cron_q' })]);
    await settled(ws);
    for (let i = 0; i < 3; i++) {
      await clock.advance(15_000);
      await settled(ws);
    }
    await Promise.all(ws.map((w) => w.stop()));
    expect(await slotsOf('cron_every')).toEqual([0, 15, 30, 45].map((sec) => new Date(Date.UTC(2030, 5, 1, 0, 0, sec)).toISOString()));
  });

  test('periodic: bad schedules and names are refused with typed errors', async () => {
    const j = defineJob('cron_bad', { handler: async () => {} });
    for (const bad of ['61 * * * *', 'every minute', '', '* * * * * * * *', { cron: '* * * * *', timezone: 'Mars/Olympus' }, { everyMs: 0 }, { everyMs: 1.5 }]) {
      const err = (() => {
        try {
          periodic('bad', bad as never, j({}));
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(bad)).toBeInstanceOf(InvalidScheduleError);
      expect((err as InvalidScheduleError).code).toBe('INVALID_SCHEDULE');
    }
    expect(() => periodic('no spaces!', '* * * * *', j({}))).toThrow(InvalidIdentifierError);
    expect(() => periodic('ok', { cron: '0 3 * * *', timezone: 'Europe/Paris' }, j({}))).not.toThrow();
    const jobs = s.client([j]);
    const twice = periodic('twice', '* * * * *', j({}));
    expect(() => jobs.createWorker({ periodic: [twice, twice] })).toThrow(InvalidOptionError);
  });
}
