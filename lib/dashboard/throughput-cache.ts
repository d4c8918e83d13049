/**
 * The overview's jobs-finished-per-hour, kept for a short while. The statement behind it reads
 * a day of `finalized_at`, which no shipped index serves, so it scans the jobs table (hundreds of
 * milliseconds at a million rows): the dashboard serves it on its own endpoint, which the page
 * fetches after the rest of the overview is on screen, and answers from memory for
 * {@link THROUGHPUT_TTL_MS} after each read. The buckets are hours, so a minute-old answer shows
 * the same chart but for the newest hour's bars.
 *
 * @module
 */
import type { ThroughputBucket } from './dashboard-store.ts';

/** How long one read of throughput is served again. */
export const THROUGHPUT_TTL_MS = 60_000;

/** One read: when it started (epoch ms) and its answer, shared by every request that comes while it runs. */
interface Read {
  at: number;
  buckets: Promise<ThroughputBucket[]>;
}

/** Throughput reads shared between requests for {@link THROUGHPUT_TTL_MS}; a failed read is not kept. */
export class ThroughputCache {
  readonly #read: (nowMs: number) => Promise<ThroughputBucket[]>;
  #last: Read | null = null;

  /** @param read the storage read for the day that ends at `nowMs` */
  constructor(read: (nowMs: number) => Promise<ThroughputBucket[]>) {
    this.#read = read;
  }

  /**
   * The buckets and when they were read: the last read's while it is younger than the TTL (or
   * still running), a new read otherwise. A clock that went back also starts a new read.
   */
  get(nowMs: number): { at: number; buckets: Promise<ThroughputBucket[]> } {
    const last = this.#last;
    if (last !== null && nowMs >= last.at && nowMs - last.at < THROUGHPUT_TTL_MS) return last;
    const read: Read = { at: nowMs, buckets: this.#read(nowMs) };
    this.#last = read;
    read.buckets.catch(() => {
      // The next request tries again instead of getting the same failure for a minute.
      if (this.#last === read) this.#last = null;
    });
    return read;
  }
}
