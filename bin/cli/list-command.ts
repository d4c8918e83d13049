/**
 * `concordia list`: the jobs of the table, oldest first, as a table or JSON. Args are left out
 * unless `--args` asks for them: they may hold personal data, and a terminal is often shared.
 *
 * @module
 */
import type { Jobs } from '../../lib/client.ts';
import type { ListedJob } from '../../lib/backend/backend.ts';
import type { JobState } from '../../lib/job.ts';
import { assertName } from '../../lib/validation.ts';
import { usage } from './exit-codes.ts';

const STATES: readonly JobState[] = ['available', 'running', 'completed', 'cancelled', 'discarded'];

/** The options of `list`, as parsed from the command line. */
export interface ListOptions {
  state?: string | undefined;
  queue?: string | undefined;
  kind?: string | undefined;
  limit?: string | undefined;
  args?: boolean | undefined;
}

/** One job as `list --json` prints it. `args` only with `--args`. */
export interface ListedJobReport {
  id: string;
  queue: string;
  kind: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: string;
  createdAt: string;
  finalizedAt: string | null;
  /** How many failed attempts the job has recorded. */
  errors: number;
  args?: unknown;
}

/** What `list --json` prints. */
export interface ListReport {
  table: string;
  jobs: ListedJobReport[];
}

/** Validated filters: checked before any connection is made, so a typo costs no round trip. */
export interface ListFilter {
  state?: JobState;
  queue?: string;
  kind?: string;
  limit: number;
  args: boolean;
}

/** Checks the `list` options; throws a usage error (exit 2) on a bad value. */
export function checkListOptions(o: ListOptions): ListFilter {
  const filter: ListFilter = { limit: 100, args: o.args === true };
  if (o.state !== undefined) {
    if (!STATES.includes(o.state as JobState)) throw usage(`--state must be one of ${STATES.join(', ')} (got "${o.state.slice(0, 40)}").`);
    filter.state = o.state as JobState;
  }
  if (o.queue !== undefined) filter.queue = assertName('queue', o.queue);
  if (o.kind !== undefined) filter.kind = assertName('kind', o.kind);
  if (o.limit !== undefined) {
    if (!/^\d{1,6}$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 100_000) {
      throw usage(`--limit must be an integer from 1 to 100000 (got "${o.limit.slice(0, 40)}").`);
    }
    filter.limit = Number(o.limit);
  }
  return filter;
}

function report(job: ListedJob, withArgs: boolean): ListedJobReport {
  return {
    id: job.id,
    queue: job.queue,
    kind: job.kind,
    state: job.state,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    finalizedAt: job.finalizedAt?.toISOString() ?? null,
    errors: Array.isArray(job.errors) ? job.errors.length : 0,
    ...(withArgs && { args: job.args }),
  };
}

/** Checks the table, then lists through the backend's `listJobs` (the same read `concordia/testing` uses). */
export async function listCommand(jobs: Jobs<unknown>, filter: ListFilter): Promise<ListReport> {
  await jobs.verify();
  const { args, ...where } = filter;
  const rows = await jobs.backend.listJobs(jobs.adapter.autocommit(), where);
  return { table: jobs.table, jobs: rows.map((j) => report(j, args)) };
}

/** `2030-01-02T03:04:05.678Z` → `2030-01-02 03:04:05`: second precision reads better in a table. */
function shortTime(iso: string | null): string {
  return iso === null ? '-' : iso.slice(0, 19).replace('T', ' ');
}

/** A fixed-width table, times in UTC; the ARGS column only when args were asked for. */
export function formatList(r: ListReport, withArgs: boolean): string {
  if (r.jobs.length === 0) return `No matching jobs in ${r.table}.\n`;
  const head = ['ID', 'QUEUE', 'KIND', 'STATE', 'ATTEMPT', 'RUN AT (UTC)', 'FINALIZED AT (UTC)', 'ERRORS'];
  if (withArgs) head.push('ARGS');
  const rows = [head];
  for (const j of r.jobs) {
    const row = [j.id, j.queue, j.kind, j.state, `${j.attempt}/${j.maxAttempts}`, shortTime(j.runAt), shortTime(j.finalizedAt), String(j.errors)];
    if (withArgs) row.push(JSON.stringify(j.args));
    rows.push(row);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  // The last column is not padded, so long args do not leave trailing blanks.
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
