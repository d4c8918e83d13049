/**
 * `concordia prune`: deletes finished jobs older than a cutoff, in batches.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import { usage } from './exit-codes.ts';

const PRUNABLE = ['completed', 'cancelled', 'discarded'] as const;
type PrunableState = (typeof PRUNABLE)[number];

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Validated `prune` options. */
export interface PruneOptions {
  state: PrunableState;
  olderThanMs: number;
  /** Rows per DELETE: small enough that each statement holds its locks only briefly. */
  batchSize: number;
}

/** What `prune --json` prints. */
export interface PruneReport {
  table: string;
  state: PrunableState;
  olderThanMs: number;
  deleted: number;
}

/** `7d`, `12h`, `30m`, `90s`, `500ms`, `2w` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d|w)$/.exec(text);
  if (!m) throw usage(`--older-than takes a duration such as 7d, 12h, 30m or 90s (got "${text.slice(0, 40)}").`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Checks the `prune` options before any connection is made. Defaults: completed jobs older than 7 days. */
export function checkPruneOptions(o: { state?: string | undefined; olderThan?: string | undefined; batchSize?: string | undefined }): PruneOptions {
  const state = (o.state ?? 'completed') as PrunableState;
  if (!PRUNABLE.includes(state)) throw usage(`--state must be completed, cancelled or discarded for prune (got "${String(o.state).slice(0, 40)}").`);
  let batchSize = 1000;
  if (o.batchSize !== undefined) {
    if (!/^\d{1,5}$/.test(o.batchSize) || Number(o.batchSize) < 1 || Number(o.batchSize) > 10_000) throw usage(`--batch-size must be an integer from 1 to 10000 (got "${o.batchSize.slice(0, 40)}").`);
    batchSize = Number(o.batchSize);
  }
  return { state, olderThanMs: parseDuration(o.olderThan ?? '7d'), batchSize };
}

/** How often a long prune reports progress: every this many batches, or this many ms, whichever comes first. */
const PROGRESS_BATCHES = 10;
const PROGRESS_MS = 2000;

/**
 * Deletes through the dialect's `prune` (the same statement a worker's retention runs), one
 * batch at a time until a batch comes back short. The cutoff is recomputed per batch from the
 * database clock, so a long run never deletes a job younger than `olderThanMs`.
 */
export async function pruneCommand(jobs: Jobs<unknown>, o: PruneOptions, progress: (deletedSoFar: number) => void): Promise<PruneReport> {
  await jobs.verify();
  const db = jobs.dispatcherDb();
  let deleted = 0;
  let batches = 0;
  let lastReport = Date.now();
  for (;;) {
    const n = await jobs.backend.prune(db, { state: o.state, olderThanMs: o.olderThanMs, limit: o.batchSize, now: jobs.clock.sqlNow() });
    deleted += n;
    batches++;
    if (n < o.batchSize) break;
    if (batches % PROGRESS_BATCHES === 0 || Date.now() - lastReport >= PROGRESS_MS) {
      progress(deleted);
      lastReport = Date.now();
    }
  }
  return { table: jobs.table, state: o.state, olderThanMs: o.olderThanMs, deleted };
}

/** `7d` style text for a duration, for the summary line. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
