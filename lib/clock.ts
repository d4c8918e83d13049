/**
 * Time sources. Production code uses {@link systemClock}: timers are real and every timestamp
 * the database stores or compares is taken from the database's own clock, so application
 * servers with skewed clocks still agree on when a job is due. Tests inject a
 * {@link FakeClock}: its `now` is bound into every statement instead, and its timers fire only
 * when the test advances time.
 *
 * @module
 */

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** A source of time and timers for the engine. */
export interface Clock {
  /** The current time. */
  now(): Date;
  /**
   * The time to bind into SQL, or `null` to let the database use its own clock. The system clock
   * returns `null`, a fake clock its fake time.
   */
  sqlNow(): Date | null;
  /** Schedules `fn` after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: wall time for the process, database time for SQL. */
export const systemClock: Clock = {
  now: () => new Date(),
  sqlNow: () => null,
  // Timers keep the process alive on purpose: a running worker is what a worker process is
  // for, and stop() clears them.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A controllable clock for tests. Time stands still until {@link FakeClock.advance} moves it;
 * timers due by then fire in order. Its time is bound into SQL, so scheduled and retried jobs
 * become due exactly when the test says.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(new Date('2030-01-01T00:00:00Z'));
 * const jobs = createJobs({ adapter, jobs: [report], clock });
 * await jobs.enqueue(tx, report({ id: 1 }), { delayMs: 60_000 });
 * await clock.advance(60_000); // the job is now due
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<object, FakeTimer>();

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  sqlNow(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order. Yields to the event
   * loop between timers so the work they start can settle.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    // Let work already queued (a handler about to start, say) run before time moves.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      let next: [object, FakeTimer] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#now = target;
  }

  /** Sets the time directly (never backwards timers; they fire on the next advance). */
  set(time: Date | number): void {
    this.#now = typeof time === 'number' ? time : time.getTime();
  }
}
