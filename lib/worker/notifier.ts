/**
 * The notifier: holds the LISTEN connection (PostgreSQL, through adapters that can listen) and
 * wakes the claim loop when an enqueue for one of this worker's queues commits. Polling stays on
 * as the safety net; when the connection drops, it is re-opened with capped backoff, and the
 * loop is woken once it is back, since enqueues meanwhile notified nobody.
 *
 * @module
 */
import type { Listener } from '../sql/executor.ts';
import type { WorkerContext } from './worker-context.ts';

export class Notifier {
  readonly #ctx: WorkerContext;
  readonly #wake: () => void;
  #listener: Listener | null = null;
  #attempts = 0;
  #starts = 0;

  constructor(ctx: WorkerContext, wake: () => void) {
    this.#ctx = ctx;
    this.#wake = wake;
  }

  /** Whether this worker can be told about enqueues (then it polls at its full interval). */
  get listening(): boolean {
    return this.#listener !== null;
  }

  /** Opens the connection if the settings, the backend and the adapter allow it. */
  start(): void {
    const { settings, backend, jobs } = this.#ctx;
    if (settings.listen && backend.channel && jobs.adapter.listen) void this.#open();
  }

  async stop(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close().catch(() => {});
  }

  async #open(): Promise<void> {
    const ctx = this.#ctx;
    const listen = ctx.jobs.adapter.listen;
    const channel = ctx.backend.channel;
    if (!listen || !channel || !ctx.running()) return;
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      ctx.report('listen (connection lost; polling continues while it reconnects)', error);
      const old = this.#listener;
      this.#listener = null;
      void old?.close().catch(() => {});
      void this.#retry();
    };
    try {
      const queues = ctx.settings.queues;
      const listener = await listen.call(
        ctx.jobs.adapter,
        channel,
        (payload) => {
          if (payload === '*' || payload.split(',').some((q) => queues.includes(q))) this.#wake();
        },
        onLost,
      );
      if (!ctx.running() || lost) {
        await listener.close().catch(() => {});
        return;
      }
      this.#listener = listener;
      this.#attempts = 0;
      ctx.emit('listening', { reconnects: this.#starts++ });
      // Jobs enqueued while the connection was down notified nobody: look now.
      this.#wake();
    } catch (error) {
      if (!lost) {
        lost = true;
        ctx.report('listen', error);
        void this.#retry();
      }
    }
  }

  async #retry(): Promise<void> {
    await this.#ctx.timers.sleep(Math.min(250 * 2 ** this.#attempts++, 30_000));
    await this.#open();
  }
}
