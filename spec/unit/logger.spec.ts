/**
 * The default logger writes one line per event (an error's code and message, with its causes),
 * never the driver's whole error object; stacks only at debug level. Any `logger` option is made
 * safe to call. A pg pool without an 'error' listener is reported once.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pgAdapter } from '../../adapters/pg/pg-adapter.ts';
import { consoleLogger, normalizeLogger } from '../../lib/logger.ts';

/** Looks like a node-postgres error: many own properties and a long stack. */
function driverError(): Error {
  const cause = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  return Object.assign(new Error('terminating connection due to administrator command', { cause }), {
    code: '57P01',
    severity: 'FATAL',
    file: 'postgres.c',
    line: '3289',
    routine: 'ProcessInterrupts',
    length: 116,
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('consoleLogger (the default)', () => {
  it('writes one line with the code and message of the error and its cause, and no stack', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    consoleLogger.error('concordia: claim failed; will retry', { workerId: 'w1', error: driverError() });
    expect(error).toHaveBeenCalledTimes(1);
    const line = String(error.mock.calls[0]?.[0]);
    expect(error.mock.calls[0]).toHaveLength(1);
    expect(line).not.toContain('\n');
    expect(line).toBe(
      'concordia: claim failed; will retry (workerId=w1, error=57P01 terminating connection due to administrator command ← caused by: ECONNRESET read ECONNRESET)',
    );
    expect(line).not.toContain('ProcessInterrupts');
  });

  it('survives fields it cannot print', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    expect(() => consoleLogger.warn('w', { error: hostile, odd: Symbol('s') })).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('normalizeLogger', () => {
  it('logger: {} falls back to the default for warn/error and does nothing for debug/info', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const logger = normalizeLogger({});
    logger.error('e');
    logger.info('i');
    logger.debug('d');
    expect(error).toHaveBeenCalledWith('e');
    expect(info).not.toHaveBeenCalled();
  });

  it('a logger whose methods throw, or that is a hostile Proxy, never throws back', () => {
    const throwing = normalizeLogger({
      warn() {
        throw new Error('logger boom');
      },
      error() {
        throw new Error('logger boom');
      },
    });
    expect(() => throwing.error('x', { a: 1 })).not.toThrow();
    expect(() => throwing.warn('x')).not.toThrow();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const proxy = normalizeLogger(
      new Proxy(
        {},
        {
          get() {
            throw new Error('trap');
          },
        },
      ),
    );
    expect(() => proxy.error('x')).not.toThrow();
  });

  it('calls the methods of a class-based logger with their own `this`', () => {
    class Sink {
      lines: string[] = [];
      warn(message: string): void {
        this.lines.push(message);
      }
      error(message: string): void {
        this.lines.push(message);
      }
    }
    const sink = new Sink();
    normalizeLogger(sink).error('kept');
    expect(sink.lines).toEqual(['kept']);
  });
});

describe("pgAdapter: a pool without an 'error' listener", () => {
  it('is reported once; a pool with one is not', async () => {
    const bare = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
    const guarded = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
    guarded.on('error', () => {});
    try {
      const first = pgAdapter(bare).setupWarnings?.() ?? [];
      expect(first).toHaveLength(1);
      expect(first[0]).toContain("pool.on('error'");
      expect(pgAdapter(bare).setupWarnings?.()).toEqual([]);
      expect(pgAdapter(guarded).setupWarnings?.()).toEqual([]);
    } finally {
      await bare.end();
      await guarded.end();
    }
  });
});
