/**
 * A small typed event emitter. Unlike Node's EventEmitter an `error` event never throws when
 * nobody listens: the dispatcher reports problems, it does not crash on them.
 *
 * @module
 */

/**
 * A subscriber to one event.
 *
 * @inline
 */
type Listener<T> = (payload: T) => void;

/** Emits events of the map `E` (event name → payload type). */
export class TypedEmitter<E extends object> {
  #listeners = new Map<keyof E, Set<Listener<never>>>();

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Resolves with the next payload of `event` for which `filter` (if given) holds. */
  next<K extends keyof E>(event: K, filter?: (payload: E[K]) => boolean): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (payload) => {
        if (filter && !filter(payload)) return;
        off();
        resolve(payload);
      });
    });
  }

  /** Whether anyone subscribes to `event` now. */
  protected hasListeners(event: keyof E): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(payload);
      } catch {
        // A failing listener must not break the dispatcher or the other listeners.
      }
    }
  }
}
