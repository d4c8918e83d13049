/**
 * The producer: the claim path. One loop claims due jobs into a local buffer and starts them in
 * free slots of the job runner; a finishing handler takes the next buffered job at once, without
 * a round trip.
 *
 * Each round asks for the free slots plus the buffer's room (see {@link PrefetchSizer}): while
 * the buffer holds more than half its target the loop sleeps, and when it falls below, the loop
 * claims again while the handlers keep running. A claim that comes back short means the queues
 * are drained for now: the loop sleeps for the poll interval (or less, right after work, where
 * no LISTEN connection can wake it) until a notification, a local enqueue or a rescue wakes it.
 * The producer also decides when the worker is idle, for `idle` listeners and drained() callers.
 *
 * Buffered jobs are leased like running ones (the heartbeat extends them), never started once
 * the worker stops (stop() releases them without using an attempt), and dropped if the heartbeat
 * finds their lease lost.
 *
 * @module
 */
import { StateError } from '../errors.ts';
import type { ClaimedJob } from '../job.ts';
import type { Completer } from './completer.ts';
import type { JobRunner } from './job-runner.ts';
import type { PausedQueues } from './paused-queues.ts';
import { PrefetchSizer } from './prefetch-sizer.ts';
import type { WorkerContext } from './worker-context.ts';

interface Round {
  claimed: ClaimedJob[];
  /** How many jobs the round asked for (0 when every open queue sits at its own limit). */
  requested: number;
  allPaused?: boolean;
}

export class Producer {
  readonly #ctx: WorkerContext;
  readonly #runner: JobRunner;
  readonly #completer: Completer;
  readonly #paused: PausedQueues;
  readonly #sizer: PrefetchSizer;
  /** Claimed, leased, not started yet; in claim order (priority, then due time). */
  #buffer: ClaimedJob[] = [];
  #loopDone: Promise<void> = Promise.resolve();
  #wakeUp: (() => void) | null = null;
  #wakePending = false;
  #waitingForSlot = false;
  /** The loop sleeps after a claim that came back short. */
  #idleSleep = false;
  /**
   * Consecutive claim rounds that came back short; drives the idle poll backoff. It starts high,
   * so a worker that has seen no work yet simply waits its poll interval.
   */
  #idleRounds = 16;
  /** Claim rounds started so far; a drained() waiter needs a round that began after its call. */
  #rounds = 0;
  /** Callers of drained(): resolved by the first idle round numbered above `after`. */
  #drainWaiters: { after: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Whether the LISTEN connection is up (the idle sleep is then the full poll interval). */
  readonly #listening: () => boolean;

  constructor(ctx: WorkerContext, runner: JobRunner, completer: Completer, paused: PausedQueues, listening: () => boolean) {
    this.#ctx = ctx;
    this.#runner = runner;
    this.#completer = completer;
    this.#paused = paused;
    this.#listening = listening;
    this.#sizer = new PrefetchSizer(ctx.settings.concurrency, ctx.settings.prefetch);
    runner.onSlotFreed = (handlerMs) => this.#slotFreed(handlerMs);
  }

  start(): void {
    this.#loopDone = this.#loop();
  }

  /** Resolves when the loop has ended (after the worker left `running`); no claim is in flight then. */
  ended(): Promise<void> {
    return this.#loopDone;
  }

  /** Jobs claimed ahead and not started. */
  buffered(): readonly ClaimedJob[] {
    return this.#buffer;
  }

  /** Empties the buffer and returns what it held (for stop() to release). */
  takeBuffered(): ClaimedJob[] {
    const jobs = this.#buffer;
    this.#buffer = [];
    return jobs;
  }

  dropBuffered(lost: ReadonlySet<ClaimedJob>): ClaimedJob[] {
    const dropped = this.#buffer.filter((j) => lost.has(j));
    if (dropped.length > 0) this.#buffer = this.#buffer.filter((j) => !lost.has(j));
    return dropped;
  }

  /**
   * Asks the loop to claim now instead of waiting out its poll interval. A wake that arrives
   * while a claim is in flight is kept, so the next wait returns at once.
   */
  wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  /** A pause or resume in this process: re-read the paused set before the next claim. */
  pauseChanged(): void {
    this.#paused.markStale();
    this.wake();
  }

  /** See {@link Worker.drained}. */
  drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ after: this.#rounds, resolve, reject });
      this.wake();
    });
  }

  /** Rejects every drained() caller (the worker is stopping). */
  rejectDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(new StateError('drained(): the worker stopped before its queues were drained.'));
  }

  /** A completion flush ended: the worker may have just become idle. */
  flushed(): void {
    this.#settledWake();
  }

  async #loop(): Promise<void> {
    const ctx = this.#ctx;
    let failures = 0;
    while (ctx.running()) {
      this.#dispatch();
      const want = this.#wanted();
      if (want <= 0) {
        await this.#waitForSlot();
        continue;
      }
      let round: Round;
      const number = ++this.#rounds;
      // Only a round that began with every outcome written can prove the queues empty: one that
      // began while a retry or a follow-up enqueue was still being written may have missed it
      // (a slow store widens that window: the Firestore emulator answers in hundreds of ms).
      const settledAtStart = this.settled();
      try {
        const startedAt = performance.now();
        round = await this.#claimRound(want);
        this.#sizer.observeClaim(performance.now() - startedAt);
        failures = 0;
      } catch (error) {
        failures++;
        ctx.report('claim', error);
        await this.#wait(Math.min(ctx.settings.pollMs * 2 ** Math.min(failures, 8), 30_000));
        continue;
      }
      this.#addToBuffer(round.claimed);
      this.#dispatch();
      if (!ctx.running()) break;
      // Every open queue with room sits at its own limit: only a finishing job makes room.
      if (round.requested === 0 && !round.allPaused) await this.#waitForSlot();
      else if (round.claimed.length < round.requested || round.allPaused) {
        if (round.claimed.length === 0 && this.settled()) {
          // Outcomes were written while this round ran: look again at once; that round decides.
          if (!settledAtStart) continue;
          this.#becameIdle(number);
        }
        this.#idleSleep = true;
        await this.#wait(this.#idleWaitMs(round.claimed.length > 0));
        this.#idleSleep = false;
      } else this.#idleRounds = 0;
    }
  }

  /**
   * Appends claimed jobs to the buffer. A job this worker claimed again (its earlier lease
   * expired and it was rescued while it waited here) replaces the stale copy, whose fence can no
   * longer hold.
   */
  #addToBuffer(claimed: readonly ClaimedJob[]): void {
    if (claimed.length === 0) return;
    if (this.#buffer.length > 0) {
      const again = new Set(claimed.map((j) => j.id));
      this.#buffer = this.#buffer.filter((j) => !again.has(j.id));
    }
    for (const job of claimed) this.#buffer.push(job);
  }

  /** Starts buffered jobs in free slots, oldest claim first. */
  #dispatch(): void {
    const { concurrency } = this.#ctx.settings;
    if (!this.#ctx.running() || this.#buffer.length === 0 || this.#runner.size >= concurrency) return;
    const n = Math.min(this.#buffer.length, concurrency - this.#runner.size);
    const starting = this.#buffer.splice(0, n);
    for (const job of starting) this.#runner.start(job);
  }

  /**
   * How many jobs to ask for now: the free slots plus the buffer's room, once the buffer has
   * fallen to half its target; 0 while it holds enough (or every slot is busy and nothing is
   * claimed ahead).
   */
  #wanted(): number {
    const target = this.#sizer.target();
    if (this.#buffer.length > target / 2) return 0;
    const free = this.#ctx.settings.concurrency - this.#runner.size;
    return Math.max(0, free + target - this.#buffer.length);
  }

  #slotFreed(handlerMs: number | undefined): void {
    if (handlerMs !== undefined) this.#sizer.observeHandler(handlerMs);
    this.#dispatch();
    if (this.#waitingForSlot) {
      if (this.#wanted() > 0) this.wake();
    } else this.#settledWake();
  }

  /**
   * One round of claims: a single statement over the open queues, or, where some queues have
   * their own concurrency limit, one statement per limited queue (for at most its free room,
   * never ahead of the slots) and one for the rest.
   */
  async #claimRound(want: number): Promise<Round> {
    const { settings } = this.#ctx;
    await this.#paused.refresh();
    const open = settings.queues.filter((q) => !this.#paused.has(q));
    if (open.length === 0) return { claimed: [], requested: 0, allPaused: true };
    if (settings.queueLimits.size === 0) return { claimed: await this.#claim(open, want), requested: want };
    const claimed: ClaimedJob[] = [];
    let slots = Math.max(0, settings.concurrency - this.#runner.size - this.#buffer.length);
    let remaining = want;
    let requested = 0;
    for (const q of open) {
      const max = settings.queueLimits.get(q);
      if (max === undefined) continue;
      const room = Math.min(slots, remaining, max - this.#runner.runningIn(q) - this.#buffer.filter((j) => j.queue === q).length);
      if (room <= 0) continue;
      const got = await this.#claim([q], room);
      requested += room;
      remaining -= got.length;
      slots -= got.length;
      claimed.push(...got);
      if (remaining <= 0) return { claimed, requested };
    }
    const unlimited = open.filter((q) => !settings.queueLimits.has(q));
    if (unlimited.length > 0) {
      claimed.push(...(await this.#claim(unlimited, remaining)));
      requested += remaining;
    }
    return { claimed, requested };
  }

  #claim(queues: readonly string[], limit: number): Promise<ClaimedJob[]> {
    const { backend, db, settings, clock } = this.#ctx;
    return backend.claim(db, { queues, limit, workerId: settings.workerId, leaseMs: settings.leaseMs, now: clock.sqlNow() });
  }

  /**
   * How long to sleep after a claim that found fewer jobs than it asked for. Without a LISTEN
   * connection (MariaDB, SQLite, poll-only PostgreSQL) the worker polls quickly right after it
   * saw work, 25 ms doubling per empty round up to `pollIntervalMs`, so a burst's follow-up jobs
   * start fast while an idle worker costs one claim per interval.
   */
  #idleWaitMs(sawWork: boolean): number {
    const { pollMs } = this.#ctx.settings;
    if (sawWork) this.#idleRounds = 0;
    if (this.#listening()) return pollMs;
    return Math.min(pollMs, 25 * 2 ** Math.min(this.#idleRounds++, 16));
  }

  /** Nothing runs or waits in this worker and every outcome has been written. */
  settled(): boolean {
    return this.#runner.size === 0 && this.#buffer.length === 0 && this.#completer.settled;
  }

  #becameIdle(round: number): void {
    this.#ctx.emit('idle', { running: 0 });
    const ready = this.#drainWaiters.filter((w) => w.after < round);
    if (ready.length === 0) return;
    this.#drainWaiters = this.#drainWaiters.filter((w) => w.after >= round);
    for (const w of ready) w.resolve();
  }

  /**
   * After the last running job's outcome is written while the loop sleeps after a short claim,
   * whoever waits for idleness (a drained() caller, an `idle` listener) should not wait out the
   * poll interval for the claim that proves the queues empty: ask for it now. That claim must
   * be a fresh one, since the finished jobs may have left due work behind (a retry, a follow-up).
   */
  #settledWake(): void {
    if (this.#idleSleep && this.settled() && (this.#drainWaiters.length > 0 || this.#ctx.listens('idle'))) this.wake();
  }

  async #waitForSlot(): Promise<void> {
    this.#waitingForSlot = true;
    await this.#wait(Number.POSITIVE_INFINITY);
    this.#waitingForSlot = false;
  }

  /** Sleeps `ms` of clock time, or until {@link Producer.wake}. */
  #wait(ms: number): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    const { timers } = this.#ctx;
    return new Promise((resolve) => {
      let timer: ReturnType<typeof timers.after> | undefined;
      const done = (): void => {
        timers.clear(timer);
        if (this.#wakeUp === done) this.#wakeUp = null;
        resolve();
      };
      this.#wakeUp = done;
      if (Number.isFinite(ms)) timer = timers.after(ms, done);
    });
  }
}
