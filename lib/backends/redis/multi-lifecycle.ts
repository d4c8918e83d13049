/**
 * Knowing when a user's MULTI ends. Neither Redis client tells anyone when a MULTI has been
 * sent or given up, but the backend must (a unique key reserved for a MULTI is freed when it
 * ends) and so must the client (commit hooks wake this process's workers). The adapters wrap the
 * MULTI's `exec` once, through {@link watchMulti}; ioredis's `discard` too.
 *
 * @internal
 */

/** Hooks on one MULTI's end. */
export interface MultiLifecycle {
  /** Calls `fn` once the MULTI has ended, whichever way: EXEC answered or failed, or it was given up. */
  onEnd(fn: () => void): void;
  /** Calls `fn` once EXEC has answered (never when the MULTI was given up or EXEC failed). */
  onCommit(fn: () => void): void;
  /** Ends the MULTI as given up (a DISCARD): runs the end hooks, never the commit hooks. */
  end(): void;
}

/**
 * Wraps `multi.exec` (and `multi.discard` where `discard` is true) so their calls run the hooks.
 * Each hook runs at most once; a hook that throws does not stop the others.
 */
export function watchMulti(multi: object, options: { discard: boolean }): MultiLifecycle {
  const ended: (() => void)[] = [];
  const committed: (() => void)[] = [];
  const run = (hooks: (() => void)[]): void => {
    for (const fn of hooks.splice(0)) {
      try {
        fn();
      } catch {
        // A hook's failure is its own: the MULTI has ended either way.
      }
    }
  };
  const end = (): void => {
    committed.length = 0;
    run(ended);
  };
  const commit = (): void => {
    run(committed);
    end();
  };
  const m = multi as { exec: (...a: unknown[]) => unknown; discard?: (...a: unknown[]) => unknown };
  const exec = m.exec.bind(multi);
  m.exec = (...a: unknown[]) => {
    const result = exec(...a);
    void Promise.resolve(result).then(commit, end);
    return result;
  };
  if (options.discard && typeof m.discard === 'function') {
    const discard = m.discard.bind(multi);
    m.discard = (...a: unknown[]) => {
      const result = discard(...a);
      end();
      return result;
    };
  }
  return { onEnd: (fn) => void ended.push(fn), onCommit: (fn) => void committed.push(fn), end };
}
