/**
 * describeThrown and redactEntry are total: they never throw, and what they return is bounded
 * and storable (no NUL, no lone surrogate) whatever was thrown and whatever `redact` does.
 */
import { describe, expect, it } from 'vitest';
import { describeThrown, errorEntry, MAX_ERROR_MESSAGE, MAX_ERROR_STACK, redactEntry, storableText } from '../../lib/error-entry.ts';

const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/; // eslint-disable-line no-control-regex

describe('describeThrown', () => {
  it('bounds message and stack, and never cuts a surrogate pair in half', () => {
    const e = new Error(`${'a'.repeat(MAX_ERROR_MESSAGE - 16)}😀😀😀${'b'.repeat(10_000)}`);
    e.stack = 's\u0000'.repeat(MAX_ERROR_STACK);
    const d = describeThrown(e);
    expect(d.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE);
    expect(d.message).toMatch(/… \[truncated\]$/);
    expect(d.message).not.toMatch(unstorable);
    expect(d.stack!.length).toBeLessThanOrEqual(MAX_ERROR_STACK);
    expect(d.stack).not.toMatch(unstorable);
  });

  it('keeps well-formed text as it is', () => {
    expect(storableText('naïve 東京 🚀 "q" \\ \n')).toBe('naïve 東京 🚀 "q" \\ \n');
    expect(describeThrown(new TypeError('plain')).message).toBe('plain');
    expect(describeThrown(new TypeError('plain')).name).toBe('TypeError');
  });

  it('an error whose name and stack getters throw still yields an entry that serialises', () => {
    const e = new Error('readable');
    Object.defineProperty(e, 'name', {
      get() {
        throw new Error('no name');
      },
    });
    Object.defineProperty(e, 'stack', {
      get() {
        throw new Error('no stack');
      },
    });
    const entry = errorEntry(e, 2, new Date(0), 'handler');
    expect(entry).toEqual({ at: '1970-01-01T00:00:00.000Z', attempt: 2, message: 'readable', reason: 'handler' });
    expect(() => JSON.stringify(entry)).not.toThrow();
  });

  it('a deep cause chain is followed a bounded number of links', () => {
    let e: Error = new Error('link 0');
    for (let i = 1; i <= 50; i++) e = new Error(`link ${i}`, { cause: e });
    const message = describeThrown(e).message;
    expect(message).toContain('link 50');
    expect(message).toContain('link 46');
    expect(message).not.toContain('link 45');
  });
});

describe('redactEntry', () => {
  it('a redact that throws withholds both message and stack', () => {
    const entry = redactEntry({ at: 'x', message: 'secret=1', stack: 'Error: secret=1' }, () => {
      throw new Error('boom');
    });
    expect(entry.message).toMatch(/^\[withheld/);
    expect(entry.stack).toMatch(/^\[withheld/);
  });

  it('the redacted text is bounded and storable again', () => {
    const entry = redactEntry({ at: 'x', message: 'm' }, () => `\u0000${'z'.repeat(100_000)}`);
    expect(entry.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE);
    expect(entry.message).not.toMatch(unstorable);
  });
});
