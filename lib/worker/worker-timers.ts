/**
 * The worker's timers, all on its injected clock and all tracked, so stop() can clear every one
 * and a fake clock drives them in tests.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.ts';

export class WorkerTimers {
  readonly #clock: Clock;
  readonly #live = new Set<TimerHandle>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs `fn` after `ms` of clock time; the handle is tracked until it fires or is cleared. */
  after(ms: number, fn: () => void): TimerHandle {
    const handle = this.#clock.setTimeout(() => {
      this.#live.delete(handle);
      fn();
    }, ms);
    this.#live.add(handle);
    return handle;
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#live.delete(handle);
  }

  /** Clock-time sleep. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.after(ms, resolve));
  }

  /**
   * Runs `fn` every `ms` (measured from the end of the previous run) while `active()` holds.
   * `fn` reports its own failures; `onError` is the last line against an unhandled rejection.
   */
  every(ms: number, fn: () => Promise<void>, active: () => boolean, onError: (error: unknown) => void): void {
    const tick = (): void => {
      if (!active()) return;
      void fn()
        .catch(onError)
        .finally(() => {
          if (active()) this.after(ms, tick);
        });
    };
    this.after(ms, tick);
  }

  /** Clears every pending timer (stop). */
  clearAll(): void {
    for (const t of this.#live) this.#clock.clearTimeout(t);
    this.#live.clear();
  }
}
