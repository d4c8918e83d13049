/**
 * Reads a job filter from a query string, as the jobs list, the count and the page's deep links
 * write it: `state=`, `kind=`, `queue=` (each repeated or comma-separated), `from=`/`to=`
 * (epoch milliseconds or an ISO date), and `args=`/`meta=` conditions `path.to.key=value`,
 * where the value is read as JSON when it is a JSON scalar (`42`, `true`, `null`, `"42"`) and
 * as a plain string otherwise. A page also takes `cursor=`, `limit=` and `scan=` (its scan
 * budget). Anything malformed is a 400, never a silently wider filter.
 *
 * @module
 */
import { DEFAULT_SCAN, MAX_SCAN } from '../backend/inspection.ts';
import type { JobState } from '../job.ts';
import { isAnyJobId } from '../job-id.ts';
import { assertName } from '../validation.ts';
import type { JobFilter, JsonPathMatch } from './dashboard-store.ts';
import { badRequest } from './http-error.ts';

const STATES: readonly JobState[] = ['available', 'running', 'completed', 'cancelled', 'discarded'];
const MAX_VALUES = 50;
const MAX_PATH_CONDITIONS = 8;
const MAX_PATH_DEPTH = 16;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 1024;
/** The page size when the query names none, and the most rows one page may have. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** Every value of a repeated or comma-separated parameter. */
function listOf(params: URLSearchParams, name: string): string[] {
  const values = params
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length > MAX_VALUES) throw badRequest(`${name}: at most ${MAX_VALUES} values.`);
  return [...new Set(values)];
}

function names(params: URLSearchParams, name: 'kind' | 'queue'): string[] {
  return listOf(params, name).map((value) => {
    try {
      return assertName(name, value);
    } catch (error) {
      throw badRequest(`${name}: ${(error as Error).message}`);
    }
  });
}

function time(params: URLSearchParams, name: 'from' | 'to'): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const ms = /^-?\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms)) throw badRequest(`${name}: give epoch milliseconds or an ISO date, got ${JSON.stringify(text.slice(0, 40))}.`);
  return ms;
}

/** `a.b=v` → `{ path: ['a', 'b'], value: 'v' }`. */
function pathMatch(name: string, text: string): JsonPathMatch {
  const eq = text.indexOf('=');
  if (eq <= 0) throw badRequest(`${name}: write a condition as path.to.key=value, got ${JSON.stringify(text.slice(0, 60))}.`);
  const path = text.slice(0, eq).split('.');
  if (path.length > MAX_PATH_DEPTH || path.some((key) => key === '' || key.length > MAX_KEY_LENGTH)) {
    throw badRequest(`${name}: a path has 1 to ${MAX_PATH_DEPTH} non-empty keys of at most ${MAX_KEY_LENGTH} characters.`);
  }
  const raw = text.slice(eq + 1);
  if (raw.length > MAX_VALUE_LENGTH) throw badRequest(`${name}: a value has at most ${MAX_VALUE_LENGTH} characters.`);
  return { path, value: scalar(raw) };
}

function scalar(raw: string): JsonPathMatch['value'] {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed === 'string' || typeof parsed === 'boolean' || (typeof parsed === 'number' && Number.isFinite(parsed))) return parsed;
  } catch {
    // Not JSON: the text itself.
  }
  return raw;
}

function pathMatches(params: URLSearchParams, name: 'args' | 'meta'): JsonPathMatch[] {
  const all = params.getAll(name).filter((v) => v !== '');
  if (all.length > MAX_PATH_CONDITIONS) throw badRequest(`${name}: at most ${MAX_PATH_CONDITIONS} conditions.`);
  return all.map((text) => pathMatch(name, text));
}

/** The filter a query string describes; empty fields are left out. */
export function filterFromQuery(params: URLSearchParams): JobFilter {
  const filter: JobFilter = {};
  const states = listOf(params, 'state');
  for (const state of states) {
    if (!STATES.includes(state as JobState)) throw badRequest(`state: one of ${STATES.join(', ')}, got ${JSON.stringify(state.slice(0, 40))}.`);
  }
  if (states.length > 0) filter.states = states as JobState[];
  const kinds = names(params, 'kind');
  if (kinds.length > 0) filter.kinds = kinds;
  const queues = names(params, 'queue');
  if (queues.length > 0) filter.queues = queues;
  const from = time(params, 'from');
  if (from !== undefined) filter.createdFrom = from;
  const to = time(params, 'to');
  if (to !== undefined) filter.createdTo = to;
  const args = pathMatches(params, 'args');
  if (args.length > 0) filter.args = args;
  const metadata = pathMatches(params, 'meta');
  if (metadata.length > 0) filter.metadata = metadata;
  return filter;
}

/**
 * The page a query asks for: a cursor (the last id seen), a limit from 1 to {@link MAX_PAGE_SIZE}
 * and the page's scan budget `scan` (see `SearchJobsParams.scanLimit`), from 1 to
 * {@link MAX_SCAN}, {@link DEFAULT_SCAN} when the query names none. The budget is always given,
 * so the answer can say what it was: the page tells the user how many rows it looked through.
 */
export function pageFromQuery(params: URLSearchParams): { cursor?: string; limit: number; scanLimit: number } {
  const cursor = params.get('cursor');
  const limit = intParam(params, 'limit', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const scanLimit = intParam(params, 'scan', DEFAULT_SCAN, MAX_SCAN);
  if (cursor === null || cursor === '') return { limit, scanLimit };
  if (!isAnyJobId(cursor)) throw badRequest('cursor: a job id, as the previous page returned it in `next`.');
  return { cursor, limit, scanLimit };
}

/** An integer parameter from 1 to `max`, or `fallback` when absent or empty. */
function intParam(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = params.get(name);
  const value = text === null || text === '' ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw badRequest(`${name}: an integer from 1 to ${max}.`);
  return value;
}

/**
 * Checks a filter that arrived as JSON (a bulk action's body): the same rules as the query
 * string, on the same field names as {@link JobFilter}.
 */
export function filterFromJson(value: unknown): JobFilter {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('filter: an object.');
  const v = value as Record<string, unknown>;
  const known = ['states', 'kinds', 'queues', 'createdFrom', 'createdTo', 'args', 'metadata'];
  const unknown = Object.keys(v).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw badRequest(`filter: unknown field ${JSON.stringify(unknown[0])}.`);
  const params = new URLSearchParams();
  const strings = (key: string, param: string) => {
    if (v[key] === undefined) return;
    if (!Array.isArray(v[key]) || (v[key] as unknown[]).some((x) => typeof x !== 'string' || x.includes(','))) throw badRequest(`filter.${key}: an array of names.`);
    for (const x of v[key] as string[]) params.append(param, x);
  };
  strings('states', 'state');
  strings('kinds', 'kind');
  strings('queues', 'queue');
  for (const [key, param] of [['createdFrom', 'from'], ['createdTo', 'to']] as const) {
    if (v[key] === undefined) continue;
    if (!Number.isSafeInteger(v[key])) throw badRequest(`filter.${key}: epoch milliseconds.`);
    params.set(param, String(v[key]));
  }
  const filter = filterFromQuery(params);
  for (const [key, field] of [['args', 'args'], ['metadata', 'metadata']] as const) {
    const list = v[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_PATH_CONDITIONS) throw badRequest(`filter.${key}: an array of at most ${MAX_PATH_CONDITIONS} { path, value } conditions.`);
    const matches = list.map((item: unknown): JsonPathMatch => {
      const m = item as { path?: unknown; value?: unknown } | null;
      const okPath = Array.isArray(m?.path) && m.path.length >= 1 && m.path.length <= MAX_PATH_DEPTH && m.path.every((k) => typeof k === 'string' && k !== '' && k.length <= MAX_KEY_LENGTH);
      const value = m?.value;
      const okValue = value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_VALUE_LENGTH);
      if (!okPath || !okValue) throw badRequest(`filter.${key}: each condition is { path: string[], value: string | number | boolean | null }.`);
      return { path: [...(m!.path as string[])], value: value as JsonPathMatch['value'] };
    });
    if (matches.length > 0) filter[field] = matches;
  }
  return filter;
}
