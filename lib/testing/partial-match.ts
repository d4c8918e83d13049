/**
 * Deep partial matching of JSON values, for `args` and `metadata` expectations.
 *
 * @module
 */

/** A deep partial of `T`: objects may leave keys out at any depth; arrays match whole. */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * Whether `actual` contains `expected`: every key of an expected object must be present and
 * match recursively (extra keys in `actual` are fine); arrays must have the same length and
 * match element by element; anything else must be strictly equal.
 *
 * @example
 * ```ts
 * partialMatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }); // true
 * ```
 */
export function partialMatch(actual: unknown, expected: unknown): boolean {
  if (expected === actual) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => partialMatch(actual[i], e));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(expected as Record<string, unknown>).every(([k, v]) => Object.hasOwn(a, k) && partialMatch(a[k], v));
  }
  // Numbers stored as JSON come back as numbers; NaN never matches, as in JSON.
  return false;
}
