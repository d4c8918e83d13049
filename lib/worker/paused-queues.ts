/**
 * Which of the worker's queues are paused, as last read. This set only saves claims: the claim
 * statement itself leaves out queues paused in the database, so a stale set never lets a paused
 * queue's job be claimed; it can only keep a queue resumed elsewhere unclaimed until the next
 * read.
 *
 * @module
 */
import type { WorkerContext } from './worker-context.ts';

export class PausedQueues {
  readonly #ctx: WorkerContext;
  #paused = new Set<string>();
  #checkedAt = Number.NEGATIVE_INFINITY;
  #stale = true;
  /** The periodic read running beside a claim, if any. */
  #reading: Promise<void> | null = null;

  constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
  }

  has(queue: string): boolean {
    return this.#paused.has(queue);
  }

  /** A pause or resume in this process: the next claim reads the set afresh. */
  markStale(): void {
    this.#stale = true;
  }

  /** Resolves once a read running in the background has ended (stop). */
  async settle(): Promise<void> {
    if (this.#reading) await this.#reading;
  }

  /**
   * Re-reads the set, at most every `pauseCheckMs`. The claim waits for the read only when it
   * must: at start, after a pause or resume in this process, and with `pauseCheckMs: 0`. The
   * periodic re-read runs beside the claim instead of before it, so a worker woken after an idle
   * second does not pay an extra round trip before its first claim; its result applies from the
   * next claim round on.
   */
  async refresh(): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.clock.now().getTime();
    if (!this.#stale && now - this.#checkedAt < ctx.settings.pauseCheckMs) return;
    if (this.#stale || ctx.settings.pauseCheckMs === 0) {
      this.#stale = false;
      this.#paused = new Set(await ctx.backend.pausedQueues(ctx.db.autocommit));
      this.#checkedAt = now;
      return;
    }
    if (this.#reading) return;
    this.#checkedAt = now;
    this.#reading = ctx.backend
      .pausedQueues(ctx.db.autocommit)
      .then(
        (queues) => {
          // A local pause or resume meanwhile marked the set stale; the next claim reads it afresh.
          if (!this.#stale) this.#paused = new Set(queues);
        },
        (error: unknown) => ctx.report('read paused queues', error),
      )
      .finally(() => {
        this.#reading = null;
      });
  }
}
