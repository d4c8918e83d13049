/**
 * Input checks at the library's edges. Anything that reaches SQL as text is either a bound
 * parameter or an identifier that matched a strict pattern here.
 *
 * @internal
 */
import { ConcordiaError, InvalidArgsError, InvalidIdentifierError, InvalidOptionError } from './errors.ts';

/** Kind and queue names: a letter or digit first, then letters, digits and `_ . : -`; 1–128 chars. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Table names: lower-case SQL identifiers only, optionally schema-qualified on PostgreSQL. */
const TABLE = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** A JSON value as stored in the jobs table. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: job args and metadata must be one. */
export type JsonObject = { [key: string]: JsonValue };

/** Whether `value` is a valid kind or queue name (see {@link assertName}), without throwing. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

export function assertName(what: 'kind' | 'queue' | 'worker id' | 'periodic job name', value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidIdentifierError(
      `Invalid ${what} ${JSON.stringify(String(value)).slice(0, 80)}: use 1-128 characters, ` +
        'starting with a letter or digit, then letters, digits, "_", ".", ":" or "-".',
    );
  }
  return value;
}

export function assertTableName(value: unknown): string {
  if (typeof value !== 'string' || !TABLE.test(value)) {
    throw new InvalidIdentifierError(
      `Invalid table name ${JSON.stringify(String(value)).slice(0, 80)}: use a lower-case SQL identifier ` +
        '([a-z_][a-z0-9_]*, at most 63 characters), optionally "schema.table".',
    );
  }
  return value;
}

/**
 * Deepest nesting of objects and arrays in args and metadata, the top-level object counting as
 * one. MariaDB's JSON functions refuse a document nested 32 deep (its JSON_VALID says 0, so the
 * column's CHECK fails); one limit on every database keeps a job portable between them.
 */
export const MAX_JSON_DEPTH = 31;

/**
 * Earliest and latest `runAt` accepted, on every database: the Unix epoch (a job due earlier is
 * simply due now) and the last millisecond of year 9999, the end of MariaDB's DATETIME range
 * (PostgreSQL's TIMESTAMPTZ and SQLite's integer milliseconds reach further).
 */
export const MIN_RUN_AT = new Date('1970-01-01T00:00:00.000Z');
export const MAX_RUN_AT = new Date('9999-12-31T23:59:59.999Z');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `text` cannot be stored as it is, or null. PostgreSQL refuses U+0000 in text and in jsonb
 * (and aborts the transaction doing so); a lone UTF-16 surrogate is refused by PostgreSQL's and
 * MariaDB's JSON and silently turned into U+FFFD by drivers that encode it as UTF-8. Both are
 * refused on every database, so what is stored is exactly what was given.
 */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return `contains U+0000 (NUL) at index ${text.indexOf('\u0000')}, which PostgreSQL cannot store.`;
  const at = text.search(LONE_SURROGATE);
  if (at >= 0) {
    return `contains a lone UTF-16 surrogate at index ${at}, which is not Unicode text; encode binary data (e.g. base64).`;
  }
  return null;
}

/** Checks a `runAt` option: a valid Date within {@link MIN_RUN_AT}…{@link MAX_RUN_AT}. */
export function assertRunAt(value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidOptionError(`enqueue: \`runAt\` must be a valid Date, got ${value instanceof Date ? 'an invalid Date' : typeof value}.`);
  }
  if (value.getTime() < MIN_RUN_AT.getTime() || value.getTime() > MAX_RUN_AT.getTime()) {
    throw new InvalidOptionError(
      `enqueue: \`runAt\` must be from ${MIN_RUN_AT.toISOString()} to ${MAX_RUN_AT.toISOString()}, got ${value.toISOString()}.`,
    );
  }
  return value;
}

export function assertInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
  return value;
}

/** The message of a thrown value, without trusting it (its getters may throw too). */
export function safeMessage(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : 'a non-Error was thrown';
  } catch {
    return 'an error whose message cannot be read';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object without prototype';
  return typeof value;
}

/**
 * Serialises `value` to JSON text after checking that it survives a round trip unchanged:
 * only plain objects, arrays, strings, finite numbers, booleans and null are accepted.
 * Anything `JSON.stringify` would silently drop or mangle (undefined, functions, symbols,
 * BigInt, NaN, Date, Map, class instances, cycles) is refused with the path of the value.
 */
export function encodeJsonObject(root: string, value: unknown, maxBytes: number): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgsError(root, `must be a plain JSON object, got ${Array.isArray(value) ? 'array' : describe(value)}.`);
  }
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): void => {
    switch (typeof v) {
      case 'string': {
        const problem = textProblem(v);
        if (problem) throw new InvalidArgsError(path, problem);
        return;
      }
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v)) throw new InvalidArgsError(path, `${v} is not representable in JSON.`);
        return;
      case 'bigint':
        throw new InvalidArgsError(path, 'BigInt is not JSON; pass it as a string.');
      case 'undefined':
        // Reached only inside arrays (object keys holding undefined are skipped, as JSON does).
        throw new InvalidArgsError(path, 'undefined is not JSON; use null.');
      case 'function':
      case 'symbol':
        throw new InvalidArgsError(path, `a ${typeof v} is not JSON.`);
      case 'object': {
        if (v === null) return;
        if (depth >= MAX_JSON_DEPTH) throw new InvalidArgsError(path, `nesting is deeper than ${MAX_JSON_DEPTH} levels of objects and arrays.`);
        if (seen.has(v)) throw new InvalidArgsError(path, 'circular reference.');
        if (Array.isArray(v)) {
          // JSON would turn a hole into null and drop extra properties: neither round-trips.
          if (Object.keys(v).length !== v.length) throw new InvalidArgsError(path, 'a sparse array (holes) or an array with extra properties is not JSON.');
          seen.add(v);
          for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`, depth + 1);
          seen.delete(v);
          return;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          const hint = v instanceof Date ? ' Pass date.toISOString() and parse it in the handler.' : '';
          throw new InvalidArgsError(path, `${describe(v)} is not a plain JSON object.${hint}`);
        }
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
          throw new InvalidArgsError(path, 'objects with toJSON() are not accepted; pass the JSON value itself.');
        }
        seen.add(v);
        for (const key of Object.keys(v)) {
          const keyProblem = textProblem(key);
          if (keyProblem) throw new InvalidArgsError(`${path}[${JSON.stringify(key)}]`, `the key ${keyProblem}`);
          const item = (v as Record<string, unknown>)[key];
          // An optional property set to undefined is simply absent in JSON, as the type says.
          if (item !== undefined) walk(item, `${path}.${key}`, depth + 1);
        }
        seen.delete(v);
        return;
      }
    }
  };
  let text: string;
  try {
    walk(value, root, 0);
    text = JSON.stringify(value);
  } catch (error) {
    if (error instanceof InvalidArgsError) throw error;
    // A getter that throws, a revoked Proxy, a stack overflow: the value cannot be read as JSON.
    throw new InvalidArgsError(root, `cannot be read as JSON: ${safeMessage(error)}.`, { cause: error });
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new InvalidArgsError(root, `serialises to ${bytes} bytes, over the limit of ${maxBytes} bytes.`);
  }
  return text;
}

/** True for `{}`-like objects (prototype `Object.prototype` or null), the only objects JSON round-trips. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Runs one job's checks of a batch of `count`: a bad job of several is named by its index, and
 * anything but a Concordia error (a getter or Proxy that throws while being read) becomes a
 * typed error carrying it as `cause`.
 */
export function inJob<T>(count: number, index: number, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const where = count > 1 ? `jobs[${index}]` : 'job';
    if (error instanceof InvalidArgsError) {
      if (count === 1) throw error;
      throw new InvalidArgsError(`${where}.${error.path}`, error.message.slice(error.path.length + 2), { cause: error.cause });
    }
    if (error instanceof ConcordiaError) {
      if (count === 1) throw error;
      error.message = `${where}: ${error.message}`;
      throw error;
    }
    throw new InvalidOptionError(`enqueue: ${where} could not be read: ${safeMessage(error)}.`, { cause: error });
  }
}
