/**
 * The counts behind the live updates, shared by every open event stream of one dashboard: one
 * reader, however many browser tabs listen, started with the first stream and stopped with the
 * last.
 *
 * It reads the counts by queue and state (and the paused queues) every poll interval, and on
 * PostgreSQL also at once when an enqueue commits: it LISTENs on the channel the workers use
 * (through the adapter's `listen`), since enqueues NOTIFY it. Jobs finishing send no
 * notification, so polling continues beside it, at a slower pace. Reads never overlap: the
 * triggers during a read share one more read after it.
 *
 * While it runs, `api/overview` takes its counts from here ({@link CountsFeed.recent}) instead of
 * reading them again: a page opens its stream and loads the overview at the same moment, and at
 * a million finished jobs those counts are the overview's slow part.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { SafeLogger } from '../logger.ts';
import type { Adapter, Listener } from '../sql/executor.ts';
import type { DashboardStore, QueueStateCount } from './dashboard-store.ts';

/** What a `counts` event carries. */
export interface CountsSnapshot {
  counts: QueueStateCount[];
  paused: string[];
}

/** Where the feed reads and listens. */
export interface CountsFeedSource {
  store: DashboardStore;
  clock: Clock;
  logger: SafeLogger;
  /** The adapter and channel to LISTEN on, when the database and adapter can. */
  listen: { adapter: Adapter<unknown>; channel: string } | null;
  pollIntervalMs: number;
}

type Subscriber = (snapshot: CountsSnapshot) => void;

/** Counts in a stable order, so two reads of the same counts compare equal. */
function ordered(counts: readonly QueueStateCount[]): QueueStateCount[] {
  return [...counts].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
}

export class CountsFeed {
  readonly #source: CountsFeedSource;
  readonly #subscribers = new Set<Subscriber>();
  #timer: TimerHandle | null = null;
  #listener: Listener | null = null;
  #opening = false;
  /** The read in progress, and the one queued behind it. */
  #current: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  /** When the read in progress started (the clock's time). */
  #currentAt = 0;
  /** The last counts read, and when that read started: how old they may be is measured from there. */
  #latest: { snapshot: CountsSnapshot; at: number } | null = null;
  #failing = false;
  /** Set by close(): no timer or LISTEN connection is opened again. */
  #closed = false;
  /** The LISTEN connection being opened, and the closes of listeners still under way. */
  #pendingOpen: Promise<void> | null = null;
  readonly #releasing = new Set<Promise<void>>();

  constructor(source: CountsFeedSource) {
    this.#source = source;
  }

  /** Open streams. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /**
   * Calls `fn` with the counts after every read (the caller drops repeats), the first time
   * soon after this call. Returns the unsubscribe function.
   */
  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    if (this.#subscribers.size === 1) this.#start();
    else void this.refresh();
    return () => {
      if (!this.#subscribers.delete(fn) || this.#subscribers.size > 0) return;
      this.#stop();
    };
  }

  /**
   * Reads the counts and hands them to every subscriber. Resolves once a read that started after
   * this call has ended: the one started now, or the one queued behind the read in progress
   * (many triggers during a read share that one).
   */
  refresh(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#current) {
      this.#current = this.#read().finally(() => {
        this.#current = null;
      });
      return this.#current;
    }
    this.#queued = this.#current.then(() => {
      this.#queued = null;
      return this.#subscribers.size > 0 ? this.refresh() : undefined;
    });
    return this.#queued;
  }

  /**
   * The counts for a caller that needs them now (`api/overview`), read no earlier than one poll
   * interval before this call: the last read's if it started since then, else the read in
   * progress if it did, else a read started now (shared with the streams like any trigger, so
   * they get it too). Resolves `null` when no stream is open (the feed is not reading, and a
   * read for nobody would only delay the caller) or the read failed: the caller then reads for
   * itself, and a failure it meets is its own to report.
   */
  async recent(): Promise<CountsSnapshot | null> {
    if (this.#subscribers.size === 0 || this.#closed) return null;
    const since = this.#source.clock.now().getTime() - this.#source.pollIntervalMs;
    const fresh = (): CountsSnapshot | null => (this.#latest && this.#latest.at >= since ? this.#latest.snapshot : null);
    if (fresh()) return fresh();
    // A read that started before `since` may end with counts already too old: wait for one after it.
    await (this.#current && this.#currentAt >= since ? this.#current : this.refresh());
    return fresh();
  }

  /**
   * Stops the feed for good: drops every subscriber, clears the poll timer, and resolves once
   * the LISTEN connection (one being opened included) and the read under way have ended, so
   * that nothing of the feed is left holding the process or the adapter's connections.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribers.clear();
    this.#stop();
    // An open still under way closes its listener itself when it lands (no subscribers).
    await this.#pendingOpen;
    await Promise.all([...this.#releasing]);
    await Promise.all([this.#current, this.#queued]);
  }

  async #read(): Promise<void> {
    const { store, logger, clock } = this.#source;
    const at = clock.now().getTime();
    this.#currentAt = at;
    let snapshot: CountsSnapshot;
    try {
      const [counts, paused] = await Promise.all([store.overviewCounts(), store.pausedQueues()]);
      snapshot = { counts: ordered(counts), paused: [...paused].sort() };
      this.#latest = { snapshot, at };
      this.#failing = false;
    } catch (error) {
      // Logged once per run of failures: the database being away must not flood the log.
      if (!this.#failing) logger.warn('dashboard: reading the job counts for live updates failed; retrying at the next poll', { error });
      this.#failing = true;
      return;
    }
    for (const fn of [...this.#subscribers]) {
      try {
        fn(snapshot);
      } catch {
        // One broken stream must not starve the others.
      }
    }
  }

  #start(): void {
    if (this.#closed) return;
    this.#schedule();
    this.#openListener();
    void this.refresh();
  }

  #stop(): void {
    if (this.#timer !== null) this.#source.clock.clearTimeout(this.#timer);
    this.#timer = null;
    const listener = this.#listener;
    this.#listener = null;
    if (listener) this.#release(listener);
  }

  /** Closes a listener, kept track of until it has, so close() can wait for it. */
  #release(listener: Listener): void {
    const closing: Promise<void> = listener
      .close()
      .catch(() => {})
      .finally(() => this.#releasing.delete(closing));
    this.#releasing.add(closing);
  }

  #schedule(): void {
    this.#timer = this.#source.clock.setTimeout(() => {
      if (this.#subscribers.size === 0 || this.#closed) return;
      this.#schedule();
      // A LISTEN connection that failed is opened again at the next poll.
      this.#openListener();
      void this.refresh();
    }, this.#source.pollIntervalMs);
  }

  #openListener(): void {
    const listen = this.#source.listen;
    if (!listen?.adapter.listen || this.#listener || this.#opening || this.#closed) return;
    this.#opening = true;
    const lost = (error: unknown): void => {
      this.#source.logger.warn('dashboard: the LISTEN connection for live updates failed; polling until it is back', { error });
      const old = this.#listener;
      this.#listener = null;
      if (old) this.#release(old);
    };
    this.#pendingOpen = listen.adapter
      .listen(listen.channel, () => void this.refresh(), lost)
      .then(
        async (listener) => {
          if (this.#subscribers.size === 0) return this.#release(listener);
          this.#listener = listener;
          // Enqueues before the LISTEN took effect notified nobody: one more read covers them.
          await this.refresh();
          this.#source.logger.debug('dashboard: live updates are listening for enqueues', { channel: listen.channel });
        },
        lost,
      )
      .finally(() => {
        this.#opening = false;
        this.#pendingOpen = null;
      });
  }
}
