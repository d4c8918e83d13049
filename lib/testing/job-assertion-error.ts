/**
 * The error the testing assertions throw: a plain `Error` subclass, so any test runner
 * (vitest, jest, node:test, mocha) reports it as a failed assertion.
 *
 * @module
 */
import type { EnqueuedJob } from './list-enqueued.ts';

/**
 * Thrown by {@link assertEnqueued} and {@link assertNotEnqueued}; its message lists the jobs
 * found, and `found` holds them for programmatic checks.
 *
 * @example
 * ```ts
 * try { await assertEnqueued(jobs, sendEmail); } catch (e) { if (e instanceof JobAssertionError) console.log(e.found); }
 * ```
 */
export class JobAssertionError extends Error {
  override readonly name = 'JobAssertionError';
  /** The jobs of the asserted kind that were found (before the other criteria were applied). */
  readonly found: readonly EnqueuedJob[];
  /** The criteria as given, for reporters that show expected vs actual. */
  readonly expected: unknown;

  constructor(message: string, expected: unknown, found: readonly EnqueuedJob[]) {
    super(message);
    this.expected = expected;
    this.found = found;
  }
}

/** One line per job, args and metadata as compact JSON (truncated: a test log, not a dump). */
export function describeJobs(found: readonly EnqueuedJob[], max = 20): string {
  if (found.length === 0) return '  (none)';
  const clip = (v: unknown): string => {
    const text = JSON.stringify(v) ?? 'undefined';
    return text.length > 200 ? `${text.slice(0, 197)}...` : text;
  };
  const lines = found
    .slice(0, max)
    .map(
      (j) =>
        `  #${j.id} ${j.kind} queue=${j.queue} state=${j.state} priority=${j.priority} runAt=${j.runAt.toISOString()} ` +
        `args=${clip(j.args)}${j.metadata === null ? '' : ` metadata=${clip(j.metadata)}`}`,
    );
  if (found.length > max) lines.push(`  … and ${found.length - max} more`);
  return lines.join('\n');
}
