import { describe, expect, it } from 'vitest';
import { InvalidArgsError } from '../../lib/errors.ts';
import type { InsertRow } from '../../lib/job.ts';
import { rowCost, splitRows } from '../../lib/insert-batches.ts';
import { encodeJsonObject, textProblem } from '../../lib/validation.ts';

const row = (argsJson: string, metadataJson: string | null = null): InsertRow => ({
  queue: 'q',
  kind: 'k',
  argsJson,
  priority: 0,
  maxAttempts: 1,
  runAt: null,
  delayMs: 0,
  metadataJson,
});

describe('splitRows', () => {
  it('splits by count, keeping order', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => row(`{"i":${i}}`));
    const chunks = splitRows(rows, 1000, Number.MAX_SAFE_INTEGER);
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flat()).toEqual(rows);
  });
  it('splits by estimated bytes (values counted twice for escaping, metadata included)', () => {
    const big = row(JSON.stringify({ s: 'x'.repeat(1000) }), JSON.stringify({ m: 'y'.repeat(500) }));
    const cost = rowCost(big);
    expect(cost).toBeGreaterThanOrEqual(2 * 1500);
    const chunks = splitRows(Array.from({ length: 10 }, () => big), 1000, cost * 3);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
  });
  it('refuses a row no statement can hold, naming it, before returning anything', () => {
    const rows = [row('{}'), row(JSON.stringify({ s: 'x'.repeat(5000) }))];
    expect(() => splitRows(rows, 1000, 4000)).toThrow(InvalidArgsError);
    expect(() => splitRows(rows, 1000, 4000)).toThrow(/jobs\[1\]\.args/);
  });
});

describe('string and depth rules', () => {
  it('textProblem finds NUL and lone surrogates, and accepts pairs and odd code points', () => {
    expect(textProblem('a\u0000')).toMatch(/U\+0000/);
    expect(textProblem('\ud800')).toMatch(/surrogate at index 0/);
    expect(textProblem('ab\udc00')).toMatch(/surrogate at index 2/);
    expect(textProblem('\udc00\ud800')).toMatch(/surrogate/);
    for (const ok of ['😀', '\uffff', '\ufeff', '\u2028', 'e\u0301', '\u{10ffff}', '']) expect(textProblem(ok)).toBeNull();
  });
  it('encodeJsonObject: 31 levels pass, 32 do not; holes and keys are checked', () => {
    let v: unknown = 1;
    for (let i = 0; i < 30; i++) v = [v];
    expect(() => encodeJsonObject('args', { a: v }, 1e6)).not.toThrow();
    expect(() => encodeJsonObject('args', { a: [v] }, 1e6)).toThrow(/31 levels/);
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    expect(() => encodeJsonObject('args', { a: [1, , 2] }, 1e6)).toThrow(/sparse/);
    expect(() => encodeJsonObject('args', { ['\ud800']: 1 }, 1e6)).toThrow(InvalidArgsError);
  });
});
