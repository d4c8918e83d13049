/**
 * The inspection and operator contract of a jobs table: what the dashboard (and any other
 * operator tool) may ask of a dialect, and the checks every dialect runs on that input before a
 * statement is built. Every read is bounded; every filter is validated here, so a malformed
 * filter is refused with an {@link InvalidFilterError} and never reaches the database (nor
 * dirties a caller's transaction).
 *
 * @internal Not semver-stable: shaped for the dashboard and reshaped with it.
 */
import { InvalidFilterError, InvalidOptionError } from '../errors.ts';
import { isJobId } from '../job-id.ts';
import { STATE_BITS, type JobErrorEntry, type JobState } from '../job.ts';
import { isName, textProblem } from '../validation.ts';

/** A JSON scalar a path filter compares with. */
export type JsonScalar = string | number | boolean | null;

/**
 * One "JSON path equals value" condition on `args` or `metadata`. `path` walks from the top of
 * the document: each segment is an object key (a letter or `_` first, then letters, digits, `_`
 * or `-`, at most 128 characters) or an array index (decimal digits, at most 999,999). A segment
 * of digits always means an array element. The value matches only a JSON value of the same type
 * (`"5"` never matches `5`), and `null` matches a JSON `null` that is present, not a missing key.
 */
export interface JsonPathMatch {
  path: readonly string[];
  value: JsonScalar;
}

/**
 * Which jobs an inspection or bulk action looks at. Every field narrows the set; an omitted
 * field does not filter. Lists match any of their values and must not be empty. Pause markers
 * (the rows that pause a queue) are never jobs and never match.
 */
export interface JobFilter {
  states?: readonly JobState[];
  kinds?: readonly string[];
  queues?: readonly string[];
  /** Created at or after this time (epoch milliseconds). */
  createdFrom?: number;
  /** Created before this time (epoch milliseconds). */
  createdTo?: number;
  args?: readonly JsonPathMatch[];
  metadata?: readonly JsonPathMatch[];
}

/** What {@link Backend.searchJobs} takes. */
export interface SearchJobsParams {
  filter: JobFilter;
  /** The `next` of the previous page: this page holds jobs with smaller ids. */
  cursor?: string | null;
  /** Jobs per page, 1–100. Default 50. */
  limit?: number;
  /**
   * The most rows one page examines, newest first, when the filter has any condition besides
   * `states` (kinds, queues, the created range, JSON paths): 1–100,000, default 5,000. Every job
   * of the filter's states (of any state when it names none) below the cursor counts, whether
   * the other conditions keep it or not. A page that runs out of it returns the matches found
   * so far (possibly none) and a `next` to go on from (the lowest id it examined), so a rare
   * kind in a large table costs many short pages instead of one long scan. A filter of states
   * alone examines only the `limit` jobs it returns.
   */
  scanLimit?: number;
}

/** A job as a list shows it: no args, metadata or error history. */
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
  /** The message of the job's latest error entry, unredacted: callers showing it pass it through their `redact`. */
  lastError: string | null;
}

/**
 * One page of {@link Backend.searchJobs}, newest first. `next` is the cursor of the following
 * page, or null when no older job can match. A page may hold fewer than `limit` jobs (even none)
 * and still have a `next`, when its scan budget ran out (see {@link SearchJobsParams.scanLimit}).
 */
export interface JobPage {
  jobs: JobSummary[];
  next: string | null;
}

/** What {@link Backend.countMatching} found: exact up to `max`; `capped` when more match. */
export interface MatchCount {
  count: number;
  capped: boolean;
}

/** A whole job row, for the detail view. Args and errors are unredacted: callers pass them through their `redact`. */
export interface JobDetail extends JobSummary {
  /** The args column as the database returns its text (PostgreSQL normalises jsonb spacing and key order). */
  args: string;
  metadata: string | null;
  /** Every recorded error, oldest first; an entry that is not an object (a hand-written row) is described by its JSON text. */
  errors: JobErrorEntry[];
  leaseExpiresAt: Date | null;
  uniqueKey: string | null;
}

/** Jobs of one queue in one state. `paused` rows are queue settings: count 1 means the queue is paused. */
export interface OverviewCount {
  queue: string;
  state: JobState | 'paused';
  count: number;
  /**
   * The count is the database's estimate (planner statistics), given for finished states whose
   * exact count would read more than `exactUpTo` rows. Never less than `exactUpTo + 1`.
   */
  estimated: boolean;
}

/** What {@link Backend.overviewCounts} takes. */
export interface OverviewOptions {
  /** Finished (queue, state) groups are counted exactly up to this many rows, estimated past it. 1–1,000,000, default 10,000. */
  exactUpTo?: number;
}

/** What {@link Backend.throughput} takes. Buckets start at multiples of `bucketMs` since the epoch. */
export interface ThroughputParams {
  /** Jobs finalized at or after this time (epoch milliseconds). */
  sinceMs: number;
  /** Jobs finalized before this time (epoch milliseconds). Default: now. */
  untilMs?: number;
  /** Bucket width, at least 1,000 ms; at most 1,000 buckets per call. */
  bucketMs: number;
}

/** Jobs that finished within one bucket, by final state. Every bucket of the range is listed, empty ones with zeros. */
export interface ThroughputBucket {
  at: Date;
  completed: number;
  discarded: number;
  cancelled: number;
}

/** A job running now and the lease it runs under. */
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

/**
 * An operator action:
 * - `retry`: `completed`, `cancelled` or `discarded` → `available`, due now, attempt count reset
 *   (the error history stays);
 * - `cancel`: `available` or `running` → `cancelled` (a running job's worker finds out at its
 *   next heartbeat, aborts the handler and drops its result);
 * - `discard`: `available` → `discarded`;
 * - `delete`: removes the row, in any state but `running` (pause markers are never touched);
 * - `runNow`: an `available` job due in the future becomes due now.
 *
 * A job in another state is left as it is and simply not reported as changed.
 */
export type JobAction = 'retry' | 'cancel' | 'discard' | 'delete' | 'runNow';

/** The states each action applies to. */
export const ACTION_STATES: Readonly<Record<JobAction, readonly JobState[]>> = {
  retry: ['completed', 'cancelled', 'discarded'],
  cancel: ['available', 'running'],
  discard: ['available'],
  delete: ['available', 'completed', 'cancelled', 'discarded'],
  runNow: ['available'],
};

/** Which jobs an action applies to: listed ids (at most 1,000), or up to `max` (at most 100,000) jobs matching a filter, newest first. */
export type JobTarget = { ids: readonly string[] } | { filter: JobFilter; max: number };

/** Every job state, in life order. */
export const JOB_STATES: readonly JobState[] = ['available', 'running', 'completed', 'cancelled', 'discarded'];
/** The states a job ends in. */
export const FINAL_STATES = ['completed', 'cancelled', 'discarded'] as const;

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;
export const DEFAULT_SCAN = 5_000;
export const MAX_SCAN = 100_000;
export const MAX_TARGET_IDS = 1_000;
export const MAX_BULK = 100_000;
/** Rows one statement of a bulk action changes. */
export const BULK_BATCH = 500;
const MAX_LIST = 100;
const MAX_PATH_MATCHES = 8;
const MAX_PATH_DEPTH = 16;
const MAX_VALUE_CHARS = 1_024;
const MAX_BUCKETS = 1_000;

/** A path segment, parsed: an object key or an array index. */
export type PathSegment = { key: string } | { index: number };

/** One JSON path condition, checked. */
export interface CheckedPathMatch {
  column: 'args' | 'metadata';
  segments: PathSegment[];
  value: JsonScalar;
}

/** A {@link JobFilter}, checked and normalised. */
export interface CheckedFilter {
  /** Never empty: every job state when the filter names none. */
  states: JobState[];
  kinds: string[] | null;
  queues: string[] | null;
  createdFrom: number | null;
  createdTo: number | null;
  json: CheckedPathMatch[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const INDEX = /^(0|[1-9][0-9]{0,5})$/;

function describe(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 60);
  } catch {
    return typeof value;
  }
}

function plainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list<T>(field: string, value: unknown, check: (item: unknown, at: string) => T): T[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw new InvalidFilterError(field, `must be a list, got ${describe(value)}.`);
  if (value.length === 0) throw new InvalidFilterError(field, 'must not be empty (leave it out to match any).');
  if (value.length > MAX_LIST) throw new InvalidFilterError(field, `at most ${MAX_LIST} values.`);
  return [...new Set(value.map((item, i) => check(item, `${field}[${i}]`)))];
}

function time(field: string, value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 253_402_300_799_999) {
    throw new InvalidFilterError(field, `must be epoch milliseconds from 0 to year 9999, got ${describe(value)}.`);
  }
  return value;
}

function pathMatches(column: 'args' | 'metadata', value: unknown): CheckedPathMatch[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidFilterError(column, `must be a list of { path, value }, got ${describe(value)}.`);
  if (value.length === 0) throw new InvalidFilterError(column, 'must not be empty (leave it out to match any).');
  if (value.length > MAX_PATH_MATCHES) throw new InvalidFilterError(column, `at most ${MAX_PATH_MATCHES} conditions.`);
  return value.map((m: unknown, i) => {
    const at = `${column}[${i}]`;
    if (!plainObject(m)) throw new InvalidFilterError(at, `must be { path, value }, got ${describe(m)}.`);
    const path = m['path'];
    if (!Array.isArray(path) || path.length === 0 || path.length > MAX_PATH_DEPTH) {
      throw new InvalidFilterError(`${at}.path`, `must be a list of 1 to ${MAX_PATH_DEPTH} segments, got ${describe(path)}.`);
    }
    const segments = path.map((seg: unknown, j): PathSegment => {
      if (typeof seg === 'string' && INDEX.test(seg)) return { index: Number(seg) };
      if (typeof seg === 'string' && KEY.test(seg)) return { key: seg };
      throw new InvalidFilterError(
        `${at}.path[${j}]`,
        `must be an object key (a letter or "_", then letters, digits, "_" or "-") or an array index (digits), got ${describe(seg)}.`,
      );
    });
    if (!Object.hasOwn(m, 'value')) throw new InvalidFilterError(`${at}.value`, 'is missing (use null to match a JSON null).');
    const v = m['value'];
    if (typeof v === 'string') {
      if (v.length > MAX_VALUE_CHARS) throw new InvalidFilterError(`${at}.value`, `at most ${MAX_VALUE_CHARS} characters.`);
      const problem = textProblem(v);
      if (problem) throw new InvalidFilterError(`${at}.value`, problem);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new InvalidFilterError(`${at}.value`, 'must be a finite number.');
    } else if (v !== null && typeof v !== 'boolean') {
      throw new InvalidFilterError(`${at}.value`, `must be a string, number, boolean or null, got ${describe(v)}.`);
    }
    // -0 is written as 0 (JSON.stringify and the databases agree).
    return { column, segments, value: Object.is(v, -0) ? 0 : (v as JsonScalar) };
  });
}

/** Checks and normalises a filter; throws {@link InvalidFilterError}. */
export function checkFilter(filter: unknown): CheckedFilter {
  if (filter === undefined || filter === null) filter = {};
  if (!plainObject(filter)) throw new InvalidFilterError('filter', `must be an object, got ${describe(filter)}.`);
  const known = new Set(['states', 'kinds', 'queues', 'createdFrom', 'createdTo', 'args', 'metadata']);
  for (const key of Object.keys(filter)) {
    if (!known.has(key)) throw new InvalidFilterError(key, 'is not a filter field (states, kinds, queues, createdFrom, createdTo, args, metadata).');
  }
  const states = list('states', filter['states'], (s, at) => {
    if (typeof s !== 'string' || !Object.hasOwn(STATE_BITS, s)) throw new InvalidFilterError(at, `unknown state ${describe(s)}.`);
    return s as JobState;
  });
  const name = (what: string) => (v: unknown, at: string) => {
    if (!isName(v)) throw new InvalidFilterError(at, `not a valid ${what} name: ${describe(v)}.`);
    return v;
  };
  return {
    states: states ?? [...JOB_STATES],
    kinds: list('kinds', filter['kinds'], name('kind')),
    queues: list('queues', filter['queues'], name('queue')),
    createdFrom: time('createdFrom', filter['createdFrom']),
    createdTo: time('createdTo', filter['createdTo']),
    json: [...pathMatches('args', filter['args']), ...pathMatches('metadata', filter['metadata'])],
  };
}

/** Checks an integer option within bounds (`fallback` null: required); throws {@link InvalidOptionError}. */
export function checkInt(what: string, value: unknown, fallback: number | null, min: number, max: number): number {
  if (value === undefined && fallback !== null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${what} must be an integer from ${min} to ${max}, got ${describe(value)}.`);
  }
  return value;
}

/** Checks a job id (by default a decimal BIGINT as text; `isId` for backends with other ids); throws {@link InvalidOptionError}. */
export function checkId(what: string, value: unknown, isId: (text: string) => boolean = isJobId): string {
  if (typeof value !== 'string' || !isId(value)) throw new InvalidOptionError(`${what} must be a job id, got ${describe(value)}.`);
  return value;
}

/** Whether the JSON document holds `m.value` at `m.path`, with the same typing rules as SQL. */
export function jsonHolds(doc: unknown, m: CheckedPathMatch): boolean {
  let at: unknown = doc;
  for (const s of m.segments) {
    if ('index' in s) {
      if (!Array.isArray(at) || s.index >= at.length) return false;
      at = at[s.index];
    } else {
      if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, s.key)) return false;
      at = (at as Record<string, unknown>)[s.key];
    }
  }
  return at === m.value;
}

/** A checked {@link SearchJobsParams}. */
export interface CheckedSearch {
  filter: CheckedFilter;
  cursor: string | null;
  limit: number;
  scanLimit: number;
}

export function checkSearch(params: SearchJobsParams, isId: (text: string) => boolean = isJobId): CheckedSearch {
  if (!plainObject(params)) throw new InvalidOptionError('searchJobs: params must be an object.');
  return {
    filter: checkFilter(params.filter),
    cursor: params.cursor === undefined || params.cursor === null ? null : checkId('searchJobs: cursor', params.cursor, isId),
    limit: checkInt('searchJobs: limit', params.limit, DEFAULT_PAGE, 1, MAX_PAGE),
    scanLimit: checkInt('searchJobs: scanLimit', params.scanLimit, DEFAULT_SCAN, 1, MAX_SCAN),
  };
}

/** A checked {@link JobTarget}. */
export type CheckedTarget = { ids: string[] } | { filter: CheckedFilter; max: number };

export function checkAction(action: unknown): JobAction {
  if (typeof action !== 'string' || !Object.hasOwn(ACTION_STATES, action)) {
    throw new InvalidOptionError(`Unknown job action ${describe(action)}: use retry, cancel, discard, delete or runNow.`);
  }
  return action as JobAction;
}

export function checkTarget(target: unknown, isId: (text: string) => boolean = isJobId): CheckedTarget {
  if (!plainObject(target)) throw new InvalidOptionError('A job action needs { ids } or { filter, max }.');
  if ('ids' in target) {
    const ids = target['ids'];
    if (!Array.isArray(ids) || ids.length > MAX_TARGET_IDS) throw new InvalidOptionError(`ids must be a list of at most ${MAX_TARGET_IDS} job ids.`);
    return { ids: [...new Set(ids.map((id, i) => checkId(`ids[${i}]`, id, isId)))] };
  }
  if (!('filter' in target)) throw new InvalidOptionError('A job action needs { ids } or { filter, max }.');
  // No default for max: acting on "everything that matches" must say how many at most.
  return { filter: checkFilter(target['filter']), max: checkInt('A job action by filter: max', target['max'], null, 1, MAX_BULK) };
}

export interface CheckedThroughput {
  sinceMs: number;
  untilMs: number;
  bucketMs: number;
}

export function checkThroughput(params: ThroughputParams): CheckedThroughput {
  if (!plainObject(params)) throw new InvalidOptionError('throughput: params must be an object.');
  const bucketMs = checkInt('throughput: bucketMs', params.bucketMs, null, 1_000, 366 * 86_400_000);
  const sinceMs = checkInt('throughput: sinceMs', params.sinceMs, null, 0, 253_402_300_799_999);
  const untilMs = checkInt('throughput: untilMs', params.untilMs, Date.now(), 0, 253_402_300_799_999);
  if (untilMs > sinceMs && Math.ceil(untilMs / bucketMs) - Math.floor(sinceMs / bucketMs) > MAX_BUCKETS) {
    throw new InvalidOptionError(`throughput: at most ${MAX_BUCKETS} buckets per call; use a wider bucketMs or a later sinceMs.`);
  }
  return { sinceMs, untilMs, bucketMs };
}

/** Every bucket start of the range, oldest first. */
export function bucketStarts(p: CheckedThroughput): number[] {
  const out: number[] = [];
  if (p.untilMs <= p.sinceMs) return out;
  for (let at = Math.floor(p.sinceMs / p.bucketMs) * p.bucketMs; at < p.untilMs; at += p.bucketMs) out.push(at);
  return out;
}

/** Fills the range's buckets from per-(bucket, state) counts. */
export function fillBuckets(p: CheckedThroughput, counts: Iterable<{ bucket: number; state: string; n: number }>): ThroughputBucket[] {
  const byStart = new Map(bucketStarts(p).map((at) => [at, { at: new Date(at), completed: 0, discarded: 0, cancelled: 0 }]));
  for (const c of counts) {
    const b = byStart.get(c.bucket * p.bucketMs);
    if (b && (c.state === 'completed' || c.state === 'discarded' || c.state === 'cancelled')) b[c.state] += c.n;
  }
  return [...byStart.values()];
}

/**
 * A stored JSON text decoded for filter matching, or undefined when there is none or it does
 * not parse (written by something other than Concordia): such a job matches no JSON filter.
 */
export function parseStoredJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The error history as stored, made safe to show: a list of entries, each with a string
 * `message` and `at`. Rows written by something other than Concordia may hold anything.
 */
export function normaliseErrors(raw: unknown): JobErrorEntry[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return [{ at: '', message: raw }];
    }
  }
  if (value === null || value === undefined) return [];
  const entries = Array.isArray(value) ? value : [value];
  return entries.map((e: unknown) => {
    if (!plainObject(e)) return { at: '', message: JSON.stringify(e) ?? String(e) };
    const entry: JobErrorEntry = {
      at: typeof e['at'] === 'string' ? e['at'] : '',
      message: typeof e['message'] === 'string' ? e['message'] : (JSON.stringify(e['message']) ?? ''),
    };
    if (typeof e['attempt'] === 'number') entry.attempt = e['attempt'];
    if (typeof e['name'] === 'string') entry.name = e['name'];
    if (typeof e['stack'] === 'string') entry.stack = e['stack'];
    if (typeof e['reason'] === 'string') entry.reason = e['reason'];
    return entry;
  });
}
