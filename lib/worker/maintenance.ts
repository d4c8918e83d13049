/**
 * Maintenance: the worker's periodic duties beside the claim path. The heartbeat extends the
 * leases of every job this worker holds (running or claimed ahead) in one statement per
 * interval and gives up the ones whose fence no longer holds; the rescuer returns jobs of dead
 * workers (expired leases) to the queue; retention prunes finished jobs in bounded batches.
 *
 * @module
 */
import { LeaseLostError } from '../errors.ts';
import type { ClaimedJob } from '../job.ts';
import type { InFlight, WorkerContext } from './worker-context.ts';
import { jobInfo } from './worker-events.ts';

const RESCUE_BATCH = 1000;
const PRUNE_BATCH = 1000;

/** The jobs a worker holds leases on, as the heartbeat needs them. */
export interface LeaseHolder {
  /** Running executions whose outcome is not decided yet. */
  running(): InFlight[];
  /** Jobs claimed ahead and not started. */
  buffered(): readonly ClaimedJob[];
  /** Forgets these buffered jobs (their lease was lost), so they never start here; returns those it still held. */
  dropBuffered(lost: ReadonlySet<ClaimedJob>): ClaimedJob[];
}

export class Maintenance {
  readonly #ctx: WorkerContext;
  readonly #holder: LeaseHolder;
  /** Asks the claim loop to look for work now (after a rescue returned jobs). */
  readonly #wake: () => void;

  constructor(ctx: WorkerContext, holder: LeaseHolder, wake: () => void) {
    this.#ctx = ctx;
    this.#holder = holder;
    this.#wake = wake;
  }

  /** Schedules the heartbeat, the rescuer (one pass now) and retention. */
  start(): void {
    const { settings, timers } = this.#ctx;
    const active = (): boolean => this.#ctx.running();
    const onError = (error: unknown): void => this.#ctx.logger.error('concordia: unexpected error in a periodic task', { workerId: settings.workerId, error });
    timers.every(settings.heartbeatMs, () => this.heartbeat(), active, onError);
    void this.rescue();
    timers.every(settings.rescueMs, () => this.rescue(), active, onError);
    if (settings.retention.length > 0) timers.every(settings.pruneMs, async () => void (await this.prune()), active, onError);
  }

  async heartbeat(): Promise<void> {
    const ctx = this.#ctx;
    const entries = this.#holder.running();
    const buffered = [...this.#holder.buffered()];
    if (entries.length === 0 && buffered.length === 0) return;
    const fences = [...entries.map((e) => ({ id: e.job.id, token: e.job.leaseToken })), ...buffered.map((j) => ({ id: j.id, token: j.leaseToken }))];
    let held: Set<string>;
    try {
      held = await ctx.backend.extendLeases(ctx.db, fences, ctx.settings.leaseMs, ctx.clock.sqlNow());
    } catch (error) {
      ctx.report('heartbeat', error);
      return;
    }
    for (const e of entries) {
      if (held.has(e.job.id) || e.decided) continue;
      e.decided = true;
      e.controller.abort(new LeaseLostError(e.job.id));
      ctx.emit('job:lease-lost', { job: e.info, during: 'heartbeat' });
    }
    // By object, not id: a copy claimed again meanwhile (after a rescue) carries a new token and stays.
    const lost = new Set(buffered.filter((j) => !held.has(j.id)));
    if (lost.size === 0) return;
    for (const job of this.#holder.dropBuffered(lost)) ctx.emit('job:lease-lost', { job: jobInfo(job), during: 'heartbeat' });
  }

  async rescue(): Promise<void> {
    const ctx = this.#ctx;
    const errorJson = JSON.stringify({
      at: ctx.clock.now().toISOString(),
      message: 'Lease expired: the worker running this attempt stopped renewing it (crashed, killed or blocked).',
      reason: 'lease_expired',
    });
    try {
      const count = await ctx.backend.rescue(ctx.db, errorJson, RESCUE_BATCH, ctx.clock.sqlNow());
      if (count > 0) {
        ctx.emit('jobs:rescued', { count });
        this.#wake();
      }
    } catch (error) {
      ctx.report('rescue', error);
    }
  }

  /** Deletes finished jobs past their retention age (at most 10 batches per state per call). */
  async prune(): Promise<number> {
    const ctx = this.#ctx;
    let total = 0;
    for (const rule of ctx.settings.retention) {
      for (let batch = 0; batch < 10; batch++) {
        let n: number;
        try {
          n = await ctx.backend.prune(ctx.db, { ...rule, limit: PRUNE_BATCH, now: ctx.clock.sqlNow() });
        } catch (error) {
          ctx.report('prune', error);
          break;
        }
        total += n;
        if (n < PRUNE_BATCH) break;
      }
    }
    if (total > 0) ctx.emit('jobs:pruned', { count: total });
    return total;
  }
}
