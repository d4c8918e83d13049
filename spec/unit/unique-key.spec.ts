/**
 * How `enqueueUnique` options become a key and a state mask (no database needed).
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../lib/errors.ts';
import { canonicalJson, uniqueKeyOf, uniqueStatesMask } from '../../lib/unique.ts';

const job = (args: object, queue = 'default') => ({ kind: 'sync', queue, argsJson: JSON.stringify(args) });
const T = Date.UTC(2030, 0, 1, 0, 0, 30);

describe('unique keys', () => {
  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('is a SHA-256 hex that ignores key order and follows the args, the subset and the queue', () => {
    const k = uniqueKeyOf(job({ a: 1, b: 2 }), {}, T);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(uniqueKeyOf(job({ b: 2, a: 1 }), {}, T)).toBe(k);
    expect(uniqueKeyOf(job({ a: 1, b: 3 }), {}, T)).not.toBe(k);
    expect(uniqueKeyOf(job({ a: 1, b: 3 }), { by: { args: ['a'] } }, T)).toBe(uniqueKeyOf(job({ a: 1, b: 2 }), { by: { args: ['a'] } }, T));
    expect(uniqueKeyOf(job({ a: 9 }), { by: { args: false } }, T)).toBe(uniqueKeyOf(job({ a: 1 }), { by: { args: false } }, T));
    // The queue counts only when asked.
    expect(uniqueKeyOf(job({ a: 1, b: 2 }, 'other'), {}, T)).toBe(k);
    expect(uniqueKeyOf(job({ a: 1 }, 'other'), { by: { queue: true } }, T)).not.toBe(uniqueKeyOf(job({ a: 1 }), { by: { queue: true } }, T));
  });

  it('periods are epoch-aligned windows', () => {
    const at = (ms: number) => uniqueKeyOf(job({ a: 1 }), { periodMs: 60_000 }, ms);
    expect(at(Date.UTC(2030, 0, 1, 0, 0, 0))).toBe(at(Date.UTC(2030, 0, 1, 0, 0, 59, 999)));
    expect(at(Date.UTC(2030, 0, 1, 0, 1, 0))).not.toBe(at(Date.UTC(2030, 0, 1, 0, 0, 59, 999)));
  });

  it('an explicit key is used as given, and cannot be mixed with by/periodMs', () => {
    expect(uniqueKeyOf(job({}), { key: 'cron:x:2030' }, T)).toBe('cron:x:2030');
    expect(() => uniqueKeyOf(job({}), { key: 'x'.repeat(256) }, T)).toThrow(InvalidOptionError);
    expect(() => uniqueKeyOf(job({}), { key: 'k', by: { args: true } }, T)).toThrow(InvalidOptionError);
  });

  it('states become a bitmask that must include available', () => {
    expect(uniqueStatesMask(undefined)).toBe(1 | 2 | 4);
    expect(uniqueStatesMask(['available', 'discarded'])).toBe(1 | 16);
    expect(() => uniqueStatesMask(['running'])).toThrow(InvalidOptionError);
    expect(() => uniqueStatesMask([])).toThrow(InvalidOptionError);
  });
});
