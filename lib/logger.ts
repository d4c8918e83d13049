/**
 * A minimal logger contract that `console` satisfies directly; pino and winston fit through a
 * one-line wrapper (see the README).
 *
 * @module
 */
import { debuglog } from 'node:util';

/** Receives the engine's log lines. Job args are never passed to it. */
export interface Logger {
  /** Detail for diagnosis, such as the stack of a database error. Optional. */
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger whose every method exists and never throws. */
export type SafeLogger = Required<Logger>;

/** Discards everything: for tests and for users who rely on events instead. */
export const silentLogger: Logger = { warn: () => {}, error: () => {} };

/** The `code` and message of an error, and of its causes, on one line. */
export function describeForLog(value: unknown): string {
  const parts: string[] = [];
  let current: unknown = value;
  for (let depth = 0; depth < 3 && current !== undefined && current !== null; depth++) {
    try {
      if (typeof current === 'object' || typeof current === 'function') {
        const o = current as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
        const code = typeof o.code === 'string' || typeof o.code === 'number' ? `${o.code} ` : '';
        const message = typeof o.message === 'string' ? o.message : String(current);
        parts.push(`${code}${message}`.replace(/\s*\n\s*/g, ' '));
        current = o.cause;
      } else {
        parts.push(String(current));
        current = undefined;
      }
    } catch {
      parts.push('[unprintable]');
      break;
    }
  }
  return parts.join(' ← caused by: ');
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const shown = typeof value === 'string' ? value : typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error) && !('message' in value) ? safeJson(value) : describeForLog(value);
    out.push(`${key}=${shown}`);
  }
  return out.length > 0 ? ` (${out.join(', ')})` : '';
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '[unprintable]';
  }
}

function stacksOf(fields: Record<string, unknown> | undefined): string[] {
  if (!fields) return [];
  const stacks: string[] = [];
  for (const value of Object.values(fields)) {
    try {
      if (value instanceof Error && typeof value.stack === 'string') stacks.push(value.stack);
    } catch {
      // A Proxy or a throwing getter: no stack to show.
    }
  }
  return stacks;
}

const debugLine = debuglog('concordia');

/**
 * The default logger: one line per event on the console, with an error's code and message (and
 * its causes' ones) instead of the whole driver error object. Stacks go to the debug level,
 * shown with `NODE_DEBUG=concordia`.
 */
export const consoleLogger: SafeLogger = {
  debug: (message, fields) => debugLine('%s%s', message, formatFields(fields)),
  info: (message, fields) => console.info(`${message}${formatFields(fields)}`),
  warn(message, fields) {
    console.warn(`${message}${formatFields(fields)}`);
    for (const stack of stacksOf(fields)) debugLine('%s', stack);
  },
  error(message, fields) {
    console.error(`${message}${formatFields(fields)}`);
    for (const stack of stacksOf(fields)) debugLine('%s', stack);
  },
};

const noop = (): void => {};

/**
 * Makes any `logger` option safe to call: missing `warn`/`error` fall back to the default
 * logger (an error must not vanish because an object lacked a method), missing `debug`/`info`
 * do nothing, and a method that throws is swallowed (logging must never break the worker).
 */
export function normalizeLogger(logger: unknown): SafeLogger {
  if (logger === undefined || logger === null) return consoleLogger;
  if (logger === consoleLogger) return consoleLogger;
  const source = logger as Partial<Record<keyof Logger, unknown>>;
  const pick = (level: keyof Logger, fallback: (message: string, fields?: Record<string, unknown>) => void) => {
    let method: unknown;
    try {
      method = source[level];
    } catch {
      method = undefined;
    }
    const call = typeof method === 'function' ? (method as (message: string, fields?: Record<string, unknown>) => void) : null;
    return (message: string, fields?: Record<string, unknown>): void => {
      try {
        if (call) call.call(logger, message, fields);
        else fallback(message, fields);
      } catch {
        // A throwing logger must not turn a recorded failure into a crash.
      }
    };
  };
  return {
    debug: pick('debug', noop),
    info: pick('info', noop),
    warn: pick('warn', consoleLogger.warn),
    error: pick('error', consoleLogger.error),
  };
}
