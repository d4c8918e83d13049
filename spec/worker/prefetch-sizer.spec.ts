/**
 * The claim-ahead sizing rule (Little's law), on its own: the buffer a worker aims for from its
 * measured handler time and claim round trip.
 */
import { describe, expect, it } from 'vitest';
import { PrefetchSizer } from '../../lib/worker/prefetch-sizer.ts';

function sized(concurrency: number, cap: number, handlerMs: number, claimMs: number): number {
  const s = new PrefetchSizer(concurrency, cap);
  s.observeHandler(handlerMs);
  s.observeClaim(claimMs);
  return s.target();
}

describe('PrefetchSizer', () => {
  it('claims nothing ahead before it has measured a handler and a claim', () => {
    const s = new PrefetchSizer(10, 100);
    expect(s.target()).toBe(0);
    s.observeClaim(1);
    expect(s.target()).toBe(0);
    s.observeHandler(1);
    expect(s.target()).toBeGreaterThan(0);
  });

  it('aims for twice the jobs the slots finish during one claim round trip', () => {
    // 10 slots, 5 ms handlers, 1 ms claims: 2 jobs finish per claim, so 4 are kept ahead.
    expect(sized(10, 100, 5, 1)).toBe(4);
    expect(sized(10, 100, 1, 1)).toBe(20);
  });

  it('keeps quick jobs up to the cap and slow jobs to at most one ahead', () => {
    expect(sized(10, 100, 0.01, 0.5)).toBe(100);
    expect(sized(10, 100, 1_000, 1)).toBe(1);
    expect(sized(1, 100, 60_000, 5)).toBe(1);
  });

  it('claims nothing ahead with prefetch 0', () => {
    expect(sized(10, 0, 0.01, 1)).toBe(0);
  });

  it('follows a change of workload through its moving averages', () => {
    const s = new PrefetchSizer(10, 100);
    s.observeClaim(1);
    s.observeHandler(0.05);
    expect(s.target()).toBe(100);
    for (let i = 0; i < 40; i++) s.observeHandler(500);
    expect(s.target()).toBe(1);
  });
});
