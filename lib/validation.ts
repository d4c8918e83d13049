/**
 * Input checks at the library's edges. Anything that reaches SQL as text is either a bound
 * parameter or an identifier that matched a strict pattern here.
 *
 * @internal
 */
import { InvalidArgsError, InvalidIdentifierError, InvalidOptionError } from './errors.ts';

/** Kind and queue names: a letter or digit first, then letters, digits and `_ . : -`; 1–128 chars. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Table names: lower-case SQL identifiers only, optionally schema-qualified on PostgreSQL. */
const TABLE = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** A JSON value as stored in the jobs table. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: job args and metadata must be one. */
export type JsonObject = { [key: string]: JsonValue };

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

export function assertInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
  return value;
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
    if (depth > 64) throw new InvalidArgsError(path, 'nesting is deeper than 64 levels.');
    switch (typeof v) {
      case 'string':
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
        if (seen.has(v)) throw new InvalidArgsError(path, 'circular reference.');
        if (Array.isArray(v)) {
          seen.add(v);
          v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
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
          const item = (v as Record<string, unknown>)[key];
          // An optional property set to undefined is simply absent in JSON, as the type says.
          if (item !== undefined) walk(item, `${path}.${key}`, depth + 1);
        }
        seen.delete(v);
        return;
      }
    }
  };
  walk(value, root, 0);
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new InvalidArgsError(root, `serialises to ${bytes} bytes, over the limit of ${maxBytes} bytes.`);
  }
  return text;
}
