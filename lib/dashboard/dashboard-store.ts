/**
 * What the dashboard's HTTP handler needs from storage: the inspection reads and operator
 * actions of the design note (docs/design/dashboard.md, section 1), bound to one client so the
 * handler never sees an executor. {@link dialectStore} implements it on the client's dialect.
 *
 * The shapes repeat those of lib/backend/inspection.ts on purpose: these are the dashboard's
 * public, documented types, while the dialect contract is internal and will be reshaped by the
 * backend seam (issue #15); dialect-store.ts is the one place that maps one onto the other.
 *
 * @module
 */
import type { JobErrorEntry, JobState } from '../job.ts';

/** One `JSON path = value` condition on a job's args or metadata. */
export interface JsonPathMatch {
  /** Keys from the top-level object down, e.g. `['user', 'id']` for `args.user.id`. */
  path: string[];
  value: string | number | boolean | null;
}

/** Which jobs a search, a count or a bulk action covers; every field given narrows it. */
export interface JobFilter {
  states?: JobState[];
  kinds?: string[];
  queues?: string[];
  /** Created at or after this time (epoch milliseconds). */
  createdFrom?: number;
  /** Created before this time (epoch milliseconds). */
  createdTo?: number;
  args?: JsonPathMatch[];
  metadata?: JsonPathMatch[];
}

/** A job as the list shows it: no args, metadata or error history. */
export interface JobSummary {
  id: string;
  queue: string;
  kind: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  attemptedAt: Date | null;
  finalizedAt: Date | null;
  /** The worker holding (or that last held) the job. */
  lockedBy: string | null;
  /** The message of the latest error, as stored: the handler redacts it before sending. */
  lastError: string | null;
}

/** One page of a search, newest first; `next` is the cursor of the following page, or null. */
export interface JobPage {
  jobs: JobSummary[];
  next: string | null;
}

/** The whole row of one job; args and metadata as the raw JSON text the table holds. */
export interface JobDetail extends JobSummary {
  args: string;
  metadata: string | null;
  /** Every recorded error, oldest first. */
  errors: JobErrorEntry[];
  leaseExpiresAt: Date | null;
  uniqueKey: string | null;
}

/** Jobs of one queue in one state; `estimated` when the database answered with an estimate. */
export interface QueueStateCount {
  queue: string;
  state: JobState;
  count: number;
  estimated: boolean;
}

/** Jobs finished in one time bucket (from `finalized_at`, so only as far back as retention keeps rows). */
export interface ThroughputBucket {
  /** Start of the bucket. */
  at: Date;
  completed: number;
  discarded: number;
  cancelled: number;
}

/** A job running now, with the worker that holds its lease. */
export interface RunningJob {
  id: string;
  queue: string;
  kind: string;
  attempt: number;
  maxAttempts: number;
  runAt: Date;
  lockedBy: string | null;
  attemptedAt: Date | null;
  leaseExpiresAt: Date | null;
}

/** The operator actions on jobs, as the HTTP API names them. */
export type JobAction = 'retry' | 'cancel' | 'discard' | 'delete' | 'run-now';

/** The jobs an action applies to: listed ids, or at most `max` jobs matching a filter. */
export type JobTarget = { ids: string[] } | { filter: JobFilter; max: number };

/** A count bounded by `max`: exact up to it, `capped` when more jobs match. */
export interface BoundedCount {
  count: number;
  capped: boolean;
}

/**
 * The storage the dashboard reads and acts on. Every read is bounded by a limit; every action
 * returns the ids it changed (a job in a state the action does not apply to is left alone and
 * not returned).
 */
export interface DashboardStore {
  /** `scanLimit`: the most rows the page examines when the filter has more than states (see `SearchJobsParams`). */
  searchJobs(query: { filter: JobFilter; cursor?: string; limit: number; scanLimit?: number }): Promise<JobPage>;
  countMatching(filter: JobFilter, options: { max: number }): Promise<BoundedCount>;
  /** The job, or null when no job has this id. */
  jobDetail(id: string): Promise<JobDetail | null>;
  overviewCounts(): Promise<QueueStateCount[]>;
  /** Finished jobs per bucket from `sinceMs` to `untilMs` (default: now). */
  throughput(options: { sinceMs: number; untilMs?: number; bucketMs: number }): Promise<ThroughputBucket[]>;
  runningJobs(limit: number): Promise<RunningJob[]>;
  pausedQueues(): Promise<string[]>;
  /** Pauses or resumes a queue; true when this call changed it. */
  setQueuePaused(queue: string, paused: boolean): Promise<boolean>;
  act(action: JobAction, target: JobTarget): Promise<string[]>;
}
