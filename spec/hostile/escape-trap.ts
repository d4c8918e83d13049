/**
 * Catches what escapes the engine during each test of a hostile suite: unhandled rejections and
 * uncaught exceptions land in `escaped` (cleared before each test) instead of failing the run at
 * random, so a test can assert that nothing escaped. Register it inside a `describe`.
 */
import { afterEach, beforeEach } from 'vitest';

export interface EscapeTrap {
  /** What escaped during the current test. */
  readonly escaped: unknown[];
  /** Also calls `fn` with each escape (e.g. to fail a waiting promise at once); reset before each test. */
  onEscape(fn: (reason: unknown) => void): void;
}

export function escapeTrap(): EscapeTrap {
  const escaped: unknown[] = [];
  let listener: (reason: unknown) => void = () => {};
  const trap = (reason: unknown): void => {
    escaped.push(reason);
    listener(reason);
  };
  beforeEach(() => {
    escaped.length = 0;
    listener = () => {};
    process.on('unhandledRejection', trap);
    process.on('uncaughtException', trap);
  });
  afterEach(() => {
    process.off('unhandledRejection', trap);
    process.off('uncaughtException', trap);
  });
  return {
    escaped,
    onEscape(fn) {
      listener = fn;
    },
  };
}
