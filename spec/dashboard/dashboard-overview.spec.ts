/**
 * `api/overview` and the live counts feed: with an event stream open, the overview takes the
 * counts the feed has (or is reading) instead of reading them a second time, and they are never
 * older than the poll interval; with none open, it reads them itself, as it always did.
 *
 * The store's counts read is counted by wrapping the memory backend's `overviewCounts`, and a
 * fake clock decides how old the feed's counts are, so nothing here waits on real time.
 */
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/memory-adapter.ts';
import { createJobs, defineJob, FakeClock, type Jobs } from '../../lib/index.ts';
import { createDashboard } from '../../lib/dashboard/index.ts';
import { countsWhere, recordingLogger, sseReader } from './dashboard-kit.ts';

const ping = defineJob('ping', { handler: async (_args: Record<string, never>) => {} });
const ORIGIN = 'http://dash.test';
const POLL_MS = 1_000;

interface Overview {
  counts: { queue: string; state: string; count: number; estimated: boolean }[];
  queues: { name: string; paused: boolean }[];
  running: unknown[];
}

/**
 * A dashboard on the memory adapter whose counts reads are counted, can be held until the test
 * lets them go (`hold()`), and can be made to fail; `runningAsked` resolves when an overview
 * request has got as far as its reads.
 */
function setup() {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const jobs = createJobs({ adapter: memoryAdapter(), clock, jobs: [ping] }) as Jobs<unknown>;
  const backend = jobs.backend as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const realCounts = backend['overviewCounts']!.bind(backend);
  const realRunning = backend['runningJobs']!.bind(backend);
  let reads = 0;
  let gate: Promise<void> | null = null;
  let failNext = false;
  backend['overviewCounts'] = async (...args: unknown[]) => {
    reads++;
    const held = gate;
    if (failNext) {
      failNext = false;
      throw new Error('database gone');
    }
    // A held read answers with the counts as they were when it started, as a slow read would.
    const counts = await realCounts(...args);
    if (held) await held;
    return counts;
  };
  let onRunning: (() => void) | null = null;
  backend['runningJobs'] = async (...args: unknown[]) => {
    onRunning?.();
    return realRunning(...args);
  };
  const log = recordingLogger();
  const dashboard = createDashboard({ jobs, authorize: () => 'alice', logger: log.logger, events: { pollIntervalMs: POLL_MS, heartbeatMs: 3_600_000 } });
  return {
    clock,
    jobs,
    dashboard,
    log,
    reads: () => reads,
    failNextRead: () => void (failNext = true),
    /** Holds every counts read from now on until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = null;
        release();
      };
    },
    runningAsked: () => new Promise<void>((resolve) => (onRunning = resolve)),
    overview: async (): Promise<Overview> => {
      const response = await dashboard(new Request(`${ORIGIN}/api/overview`));
      expect(response.status).toBe(200);
      return (await response.json()) as Overview;
    },
    /** Opens an event stream; `close()` leaves it as a closed tab does (the request aborted). */
    openStream: async () => {
      const abort = new AbortController();
      const response = await dashboard(new Request(`${ORIGIN}/api/events`, { signal: abort.signal }));
      expect(response.status).toBe(200);
      const reader = sseReader(response.body!);
      return {
        reader,
        close: async () => {
          abort.abort();
          await reader.ended;
        },
      };
    },
  };
}

const available = (count: number) => [{ queue: 'default', state: 'available', count, estimated: false }];

describe('api/overview with the live counts feed', () => {
  it('joins the read a new stream started, so a page load reads the counts once', async () => {
    const t = setup();
    await t.jobs.enqueueAutocommit(ping({}));
    const release = t.hold();
    // The page opens its stream first: the feed starts reading, and that read is held.
    const { reader, close } = await t.openStream();
    expect(t.reads()).toBe(1);
    const asked = t.runningAsked();
    const pending = t.overview();
    await asked;
    release();
    const body = await pending;
    expect(body.counts).toEqual(available(1));
    expect(body.queues).toEqual([{ name: 'default', paused: false }]);
    expect(body.running).toEqual([]);
    expect((await countsWhere(reader, () => true)).counts).toEqual(available(1));
    expect(t.reads()).toBe(1);
    await close();
  });

  it('reuses the counts of the last read within the poll interval, and reads again past it', async () => {
    const t = setup();
    const { reader, close } = await t.openStream();
    expect((await countsWhere(reader, () => true)).counts).toEqual([]);
    expect(t.reads()).toBe(1);
    expect((await t.overview()).counts).toEqual([]);
    expect(t.reads()).toBe(1);

    // Just inside the interval (its poll not yet due), the last read's counts still answer.
    await t.jobs.enqueueAutocommit(ping({}));
    await t.clock.advance(POLL_MS - 1);
    expect((await t.overview()).counts).toEqual([]);
    expect(t.reads()).toBe(1);

    // Past it, with the poll late (a busy process), the overview does not take the old counts:
    // it starts a read, which the stream gets too.
    t.clock.set(t.clock.now().getTime() + 2);
    expect((await t.overview()).counts).toEqual(available(1));
    expect(t.reads()).toBe(2);
    expect((await countsWhere(reader, (d) => d.counts.length > 0)).counts).toEqual(available(1));
    expect(t.reads()).toBe(2);
    await close();
  });

  it('does not wait for a read in progress that started before the interval: it reads after it', async () => {
    const t = setup();
    const { reader, close } = await t.openStream();
    await countsWhere(reader, () => true);
    // A poll whose read is slow: held, while time goes past an interval and a job is enqueued.
    const release = t.hold();
    await t.clock.advance(POLL_MS);
    expect(t.reads()).toBe(2);
    t.clock.set(t.clock.now().getTime() + POLL_MS + 1);
    await t.jobs.enqueueAutocommit(ping({}));
    const asked = t.runningAsked();
    const pending = t.overview();
    await asked;
    release();
    expect((await pending).counts).toEqual(available(1));
    expect(t.reads()).toBe(3);
    // The read after it was the feed's, shared: the stream has the new counts without a poll.
    await close();
    expect((await countsWhere(reader, (d) => d.counts.length > 0)).counts).toEqual(available(1));
  });

  it('reads the counts itself when no stream is open, before the first and after the last', async () => {
    const t = setup();
    await t.jobs.enqueueAutocommit(ping({}));
    expect((await t.overview()).counts).toEqual(available(1));
    expect((await t.overview()).counts).toEqual(available(1));
    expect(t.reads()).toBe(2);

    const { reader, close } = await t.openStream();
    await countsWhere(reader, () => true);
    expect(t.reads()).toBe(3);
    await close();
    // The feed's counts are of no use once nobody listens: no poll keeps them current.
    expect((await t.overview()).counts).toEqual(available(1));
    expect(t.reads()).toBe(4);
  });

  it('answers with counts of its own read when the feed could not read them', async () => {
    const t = setup();
    await t.jobs.enqueueAutocommit(ping({}));
    t.failNextRead();
    const warned = t.log.next(/reading the job counts for live updates failed/);
    const { close } = await t.openStream();
    await warned;
    expect((await t.overview()).counts).toEqual(available(1));
    await close();
  });
});
