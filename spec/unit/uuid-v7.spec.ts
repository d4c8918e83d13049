/**
 * The Redis backend's client-made ids: valid UUIDv7 text, unique, and sorting as text in the
 * order they were made (keyset pages and "newest first" rely on it), also across the refills of
 * the random-byte pool they draw from.
 */
import { describe, expect, it } from 'vitest';
import { isUuidV7, uuidV7 } from '../../lib/uuid-v7.ts';

describe('uuidV7', () => {
  it('makes valid, distinct ids that sort as text in creation order, across many pool refills', () => {
    // 10,000 ids use the 4 KiB pool about 40 times over; several clock values and many ids per millisecond.
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(uuidV7(1_760_000_000_000 + Math.floor(i / 1000)));
    expect(ids.every((id) => isUuidV7(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps the random part random: ids of the same millisecond differ beyond the counter', () => {
    const a = uuidV7(1_770_000_000_000);
    const b = uuidV7(1_770_000_000_000);
    // Time (12 hex digits) and version plus counter (4) may be alike; the 16 random hex digits must not be.
    const randomPart = (id: string): string => id.replace(/-/g, '').slice(16);
    expect(randomPart(a)).not.toBe(randomPart(b));
    expect(a.slice(0, 8)).toBe(b.slice(0, 8));
  });
});
