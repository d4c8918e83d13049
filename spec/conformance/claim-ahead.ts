/**
 * Conformance tests of claiming ahead (`prefetch`): jobs claimed for the buffer are leased,
 * covered by the heartbeat, never started once their lease is lost, and given back on stop
 * without using an attempt. Run by {@link exerciseAdapter} for every adapter × database pair.
 */
import { expect } from 'vitest';
import { defineJob, FakeClock, silentLogger, type Jobs } from '../../lib/index.ts';
import type { SuiteContext } from './unique-jobs.ts';

function latch(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

export function claimAheadTests(s: SuiteContext): void {
  const { test } = s;

  /**
   * Runs a few quick jobs, so the worker has measured a handler and a claim: from then on it
   * claims at least one job beyond its free slots (the target is never 0 once both are known).
   */
  async function warmUp(jobs: Jobs<unknown>, worker: { drained(): Promise<void> }, queue: string, kind: (a: { block: boolean }) => never): Promise<void> {
    for (let i = 0; i < 3; i++) await jobs.enqueueAutocommit(kind({ block: false }), { queue });
    await worker.drained();
  }

  test('claim ahead: a worker holds jobs beyond its slots and gives them back on stop without using an attempt', async () => {
    const h = s.harness();
    const gate = latch();
    const blockerStarted = latch();
    const ahead = defineJob('ahead_release', {
      handler: async (a: { block: boolean }) => {
        if (!a.block) return;
        blockerStarted.open();
        await gate.wait;
      },
    });
    const jobs = s.client([ahead]);
    const w = await s.start(jobs, { queues: ['ahead_release'], concurrency: 1, prefetch: 50, shutdownTimeoutMs: 0 });
    await warmUp(jobs, w, 'ahead_release', ahead as never);
    const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, [ahead({ block: true }), ...Array.from({ length: 4 }, () => ahead({ block: false }))], { queue: 'ahead_release' }));
    w.wake();
    await blockerStarted.wait;
    const running = (await h.rows()).filter((r) => ids.includes(r.id) && r.state === 'running');
    // One in the slot, at least one more claimed for the buffer.
    expect(running.length).toBeGreaterThanOrEqual(2);
    await w.stop();
    gate.open();
    const rows = (await h.rows()).filter((r) => ids.includes(r.id));
    // The blocker was released at the shutdown deadline, the buffered ones at once; none used an attempt.
    expect(rows.map((r) => [r.state, r.attempt])).toEqual(ids.map(() => ['available', 0]));
  });

  test('claim ahead: the heartbeat covers buffered jobs, and one whose lease was lost is never started here', async () => {
    const h = s.harness();
    const gate = latch();
    const blockerStarted = latch();
    const startedOnA: string[] = [];
    const ahead = defineJob('ahead_lost', {
      handler: async (a: { block: boolean }) => {
        if (!a.block) return;
        blockerStarted.open();
        await gate.wait;
      },
    });
    // Worker A's timers run on a fake clock (set to now), so its heartbeat runs only when the test says.
    const clock = new FakeClock(new Date());
    const jobsA = s.client([ahead], { clock });
    const a = await s.start(jobsA, { queues: ['ahead_lost'], concurrency: 1, prefetch: 50, leaseMs: 600_000, heartbeatMs: 60_000, rescueIntervalMs: 500_000 });
    a.on('job:started', (e) => startedOnA.push(e.job.id));
    await warmUp(jobsA, a, 'ahead_lost', ahead as never);
    const [, buffered] = await h.inTransaction((tx) => jobsA.enqueueMany(tx, [ahead({ block: true }), ahead({ block: false })], { queue: 'ahead_lost' }));
    a.wake();
    await blockerStarted.wait;
    expect((await h.rows()).find((r) => r.id === buffered)).toMatchObject({ state: 'running', lockedBy: a.id });
    // The buffered job's lease runs out; worker B rescues it, claims it and completes it.
    await h.expireLease(buffered!);
    const jobsB = s.client([ahead]);
    const b = jobsB.createWorker({ pollIntervalMs: 20, logger: silentLogger, queues: ['ahead_lost'] });
    const bDone = b.next('job:completed');
    await b.start();
    expect((await bDone).job.id).toBe(buffered);
    await b.stop();
    // A's next heartbeat finds the buffered copy's fence gone and drops it.
    const lost = a.next('job:lease-lost');
    await clock.advance(60_000);
    expect(await lost).toMatchObject({ job: { id: buffered }, during: 'heartbeat' });
    const blockerDone = a.next('job:completed');
    gate.open();
    await blockerDone;
    await a.drained();
    expect(startedOnA).not.toContain(buffered);
    expect((await h.rows()).find((r) => r.id === buffered)).toMatchObject({ state: 'completed', lockedBy: b.id });
  });
}
