/**
 * Unique jobs: the options of `enqueueUnique`, and how they become a `unique_key` and a
 * `unique_states` bitmask. The database enforces uniqueness with a unique index on
 * `unique_key`; this file only decides what the key is.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidOptionError } from './errors.ts';
import { STATE_BITS, type JobState } from './job.ts';
import type { EnqueueOptions } from './job-definition.ts';
import { assertInt, textProblem } from './validation.ts';

/** What makes two jobs "the same" for {@link UniqueEnqueueOptions}. */
export interface UniqueOptions {
  /**
   * What the key is computed from, besides the kind (always included):
   * - `args`: `true` (default) for all args, `false` for none, or the names of the top-level
   *   arg keys to compare (the others may differ);
   * - `queue`: include the queue (default false: the same job on another queue is a duplicate).
   */
  by?: { args?: boolean | readonly string[]; queue?: boolean };
  /**
   * Uniqueness only within fixed windows of this many milliseconds (aligned on the Unix epoch,
   * by the client's clock): a second job in the next window is not a duplicate. Default: no
   * window, unique for as long as the first job stays in `states`.
   */
  periodMs?: number;
  /**
   * The states in which an existing job keeps duplicates out. Default `available`, `running`,
   * `completed`; must include `available`. Once a job moves to a state outside this list its key
   * is released for good (it is not restored if the job later returns to a covered state).
   */
  states?: readonly JobState[];
  /** An explicit key (1–255 characters) instead of one computed from `by` and `periodMs`. */
  key?: string;
}

/** Options of `enqueueUnique`: the usual enqueue options plus `unique`. */
export interface UniqueEnqueueOptions extends EnqueueOptions {
  unique: UniqueOptions;
}

/**
 * What `enqueueUnique` did: inserted a new job, or found a job holding the same key (its id,
 * or null when the caller's snapshot cannot see it, e.g. under REPEATABLE READ).
 */
export type UniqueEnqueueResult = { inserted: true; id: string } | { inserted: false; id: string | null };

/** The default `states` of {@link UniqueOptions}. */
export const DEFAULT_UNIQUE_STATES: readonly JobState[] = ['available', 'running', 'completed'];

const MAX_PERIOD_MS = 100 * 365 * 24 * 3600 * 1000;

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The `unique_states` bitmask of `states`, validated. */
export function uniqueStatesMask(states: readonly JobState[] | undefined): number {
  const list = states ?? DEFAULT_UNIQUE_STATES;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidOptionError('enqueueUnique: `unique.states` must be a non-empty array of job states.');
  let mask = 0;
  for (const s of list) {
    if (typeof s !== 'string' || !Object.hasOwn(STATE_BITS, s)) {
      throw new InvalidOptionError(`enqueueUnique: unknown state ${JSON.stringify(s)} in \`unique.states\`.`);
    }
    mask |= STATE_BITS[s as JobState];
  }
  // A new job is available: a key that did not cover it would be dropped before it protected anything.
  if ((mask & STATE_BITS.available) === 0) throw new InvalidOptionError('enqueueUnique: `unique.states` must include "available".');
  return mask;
}

/**
 * The key of a job: the explicit `key`, or the SHA-256 (hex) of the canonical JSON of
 * `[kind, queue or null, args subset or null, period start or null]`.
 *
 * @example
 * ```ts
 * uniqueKeyOf({ kind: 'sync', queue: 'default', argsJson: '{"user":1}' }, { by: { args: ['user'] }, periodMs: 60_000 }, Date.now());
 * ```
 */
export function uniqueKeyOf(job: { kind: string; queue: string; argsJson: string }, options: UniqueOptions, nowMs: number): string {
  if (options.key !== undefined) {
    if (options.by !== undefined || options.periodMs !== undefined) {
      throw new InvalidOptionError('enqueueUnique: give either `unique.key` or `unique.by`/`unique.periodMs`, not both.');
    }
    const chars = typeof options.key === 'string' ? [...options.key].length : 0;
    if (chars < 1 || chars > 255) throw new InvalidOptionError('enqueueUnique: `unique.key` must be a string of 1 to 255 characters.');
    const problem = textProblem(options.key);
    if (problem) throw new InvalidOptionError(`enqueueUnique: \`unique.key\` ${problem}`);
    return options.key;
  }
  const by = options.by ?? {};
  // The stored args, parsed back: the key sees exactly what the row holds.
  const args = JSON.parse(job.argsJson) as Record<string, unknown>;
  let subset: unknown = null;
  if (by.args === undefined || by.args === true) subset = args;
  else if (Array.isArray(by.args)) {
    const picked: Record<string, unknown> = {};
    for (const k of by.args as readonly unknown[]) {
      if (typeof k !== 'string') throw new InvalidOptionError('enqueueUnique: `unique.by.args` must be a boolean or an array of arg names.');
      if (Object.hasOwn(args, k)) picked[k] = args[k];
    }
    subset = picked;
  } else if (by.args !== false) {
    throw new InvalidOptionError('enqueueUnique: `unique.by.args` must be a boolean or an array of arg names.');
  }
  let period: number | null = null;
  if (options.periodMs !== undefined) {
    const ms = assertInt('unique.periodMs', options.periodMs, 1, MAX_PERIOD_MS);
    period = Math.floor(nowMs / ms) * ms;
  }
  const material = canonicalJson([job.kind, by.queue === true ? job.queue : null, subset, period]);
  return createHash('sha256').update(material).digest('hex');
}
