/**
 * How many jobs to claim ahead of the handlers (Little's law). While one claim is in flight the
 * worker's slots keep taking jobs from the buffer: `concurrency × claimRoundTrip ÷ handlerTime`
 * of them. The loop claims again when the buffer falls to half its target, so a target of twice
 * that keeps every slot busy through the claim, and each claim carries about target ÷ 2 jobs
 * instead of one per freed slot. Quick handlers get a deep buffer, slow ones almost none: a job
 * that waits in one worker's buffer cannot start in another process, and with slow handlers a
 * claim round trip is cheap next to the work, so there is nothing to gain from hoarding.
 *
 * Both times are moving averages of what this worker measured. Until a handler has finished
 * the target is 0: a fresh worker claims only for its free slots.
 *
 * @module
 */

/** Weight of the newest sample in the moving averages. */
const ALPHA = 0.2;

export class PrefetchSizer {
  readonly #concurrency: number;
  readonly #cap: number;
  #handlerMs: number | undefined;
  #claimMs: number | undefined;

  /** @param cap the `prefetch` option: the deepest buffer allowed (0 turns claiming ahead off). */
  constructor(concurrency: number, cap: number) {
    this.#concurrency = concurrency;
    this.#cap = cap;
  }

  observeHandler(ms: number): void {
    this.#handlerMs = average(this.#handlerMs, Math.max(ms, 0.001));
  }

  observeClaim(ms: number): void {
    this.#claimMs = average(this.#claimMs, Math.max(ms, 0));
  }

  /** The buffer depth to aim for now, in jobs. */
  target(): number {
    if (this.#cap === 0 || this.#handlerMs === undefined || this.#claimMs === undefined) return 0;
    const drainedDuringClaim = (this.#concurrency * this.#claimMs) / this.#handlerMs;
    return Math.min(this.#cap, Math.ceil(2 * drainedDuringClaim));
  }
}

function average(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + ALPHA * (sample - previous);
}
