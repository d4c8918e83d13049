/**
 * A minimal logger contract that `console` satisfies directly; pino and winston fit through a
 * one-line wrapper (see the README).
 *
 * @module
 */

/** Receives the engine's log lines. Job args are never passed to it. */
export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Discards everything: for tests and for users who rely on events instead. */
export const silentLogger: Logger = { warn: () => {}, error: () => {} };
