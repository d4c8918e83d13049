import { describe, expect, it } from 'vitest';
import { encodeJsonObject, assertName } from '../../lib/validation.ts';
import { InvalidArgsError, InvalidIdentifierError } from '../../lib/errors.ts';
import { exponentialBackoff } from '../../lib/retry-policy.ts';

describe('encodeJsonObject', () => {
  it('accepts plain JSON and skips undefined object properties as JSON does', () => {
    expect(encodeJsonObject('args', { a: 1, b: undefined, c: [null, 'x'] }, 1000)).toBe('{"a":1,"c":[null,"x"]}');
  });
  it('accepts objects without a prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['k'] = 1;
    expect(encodeJsonObject('args', o, 100)).toBe('{"k":1}');
  });
  it('never lets a __proto__ key pollute anything', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    expect(encodeJsonObject('args', parsed, 100)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
  it('counts bytes, not characters', () => {
    expect(() => encodeJsonObject('args', { s: '東京東京' }, 15)).toThrow(InvalidArgsError);
  });
});

describe('assertName', () => {
  const bad = ['', ' ', '_lead', 'a b', "x'", 'a;b', 'é', 'x'.repeat(129), '$$', '%I', 'a\u0000b', '.dot'];
  it.each(bad)('refuses %j', (name) => {
    expect(() => assertName('queue', name)).toThrow(InvalidIdentifierError);
  });
  it('accepts the usual shapes', () => {
    for (const ok of ['default', 'emails.high', 'tenant-1:reports', 'A1_b']) expect(assertName('queue', ok)).toBe(ok);
  });
});

describe('exponentialBackoff', () => {
  it('grows, stays within its jitter and never passes the cap', () => {
    for (const r of [0, 0.5, 0.999]) {
      const p = exponentialBackoff({ baseMs: 1000, maxMs: 60_000, jitter: 0.1, random: () => r });
      for (let attempt = 1; attempt <= 20; attempt++) {
        const raw = Math.min(60_000, 1000 * 2 ** (attempt - 1));
        const d = p.delayMs(attempt, null);
        expect(d).toBeGreaterThanOrEqual(Math.floor(raw * 0.9));
        expect(d).toBeLessThanOrEqual(60_000);
      }
    }
  });
});
