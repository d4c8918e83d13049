/**
 * `concordia status`: job counts by queue and state.
 *
 * @module
 */
import type { JobCount } from '../../lib/backend/backend.ts';
import type { Jobs } from '../../lib/client.ts';
import type { JobState } from '../../lib/job.ts';

const STATES: readonly JobState[] = ['available', 'running', 'completed', 'cancelled', 'discarded'];

/** What `status --json` prints. */
export interface StatusReport {
  table: string;
  counts: JobCount[];
  totals: Record<JobState, number>;
}

/** Checks the table, then counts its jobs (the statement is the backend's `countJobs`). */
export async function statusCommand(jobs: Jobs<unknown>): Promise<StatusReport> {
  await jobs.verify();
  const counts = await jobs.backend.countJobs(jobs.adapter.autocommit());
  const totals = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const c of counts) totals[c.state] = (totals[c.state] ?? 0) + c.count;
  return { table: jobs.table, counts, totals };
}

/** A fixed-width table: one row per queue, one column per state. */
export function formatStatus(report: StatusReport): string {
  const queues = [...new Set(report.counts.map((c) => c.queue))];
  if (queues.length === 0) return `No jobs in ${report.table}.\n`;
  const rows = [['QUEUE', ...STATES.map((s) => s.toUpperCase())]];
  for (const q of queues) {
    rows.push([q, ...STATES.map((s) => String(report.counts.find((c) => c.queue === q && c.state === s)?.count ?? 0))]);
  }
  rows.push(['(all)', ...STATES.map((s) => String(report.totals[s]))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
