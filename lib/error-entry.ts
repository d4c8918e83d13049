/**
 * Turns whatever a handler threw into a bounded, JSON-safe entry for the job's `errors` column.
 *
 * Describing a thrown value must never fail: if it did, the failure could not be written, the
 * job would sit `running` until its lease expired and the real error would be lost. A handler
 * can throw anything (an Error whose `message` getter throws, a Proxy whose every trap throws,
 * a Symbol, a circular object, a string of megabytes), so every read of the value is guarded
 * and every result is bounded and made storable: PostgreSQL refuses NUL in text and JSON, and
 * PostgreSQL and MariaDB refuse JSON carrying a lone UTF-16 surrogate.
 *
 * @internal
 */
import type { JobErrorEntry } from './job.ts';

export const MAX_ERROR_MESSAGE = 4 * 1024;
export const MAX_ERROR_STACK = 16 * 1024;
/** How many `cause` links (or AggregateError members) a message follows. */
const MAX_CAUSES = 4;

/** NUL, and UTF-16 surrogates that are not part of a pair. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces what a database refuses to store (NUL, lone surrogates) with U+FFFD. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/** Cuts `text` to at most `max` characters, never splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 15;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… [truncated]`;
}

/** A bounded, storable version of `text`. */
function bounded(text: string, max: number): string {
  // Truncate first, so a huge string is not scanned in full; the replacement keeps the length.
  return storableText(truncate(text, max));
}

/** Runs `read`; returns undefined when it throws. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** JSON.stringify that survives cycles, BigInt, Symbols and throwing getters; never throws. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const json = attempt(() =>
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'symbol' || typeof v === 'function') return String(v);
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    }),
  );
  if (typeof json === 'string') return json;
  const text = attempt(() => String(value));
  if (typeof text === 'string') return text;
  const tag = attempt(() => Object.prototype.toString.call(value));
  return typeof tag === 'string' ? tag : `[unprintable ${typeof value}]`;
}

/** Whether `value` is an Error; false (not a throw) for a Proxy whose traps throw. */
function isError(value: unknown): value is Error {
  return attempt(() => value instanceof Error) === true;
}

/** Reads a property that may be a throwing getter or a Proxy trap. */
function readProp(value: object, key: string): unknown {
  return attempt(() => (value as Record<string, unknown>)[key]);
}

/** A string form of any value, never throwing. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (typeof value === 'symbol') return attempt(() => value.toString()) ?? 'Symbol()';
  if (typeof value === 'object' && value !== null && !isError(value)) return safeStringify(value);
  const s = attempt(() => String(value));
  return typeof s === 'string' ? s : safeStringify(value);
}

/** The message of an Error, or a note that it could not be read. */
function errorMessage(error: Error): string {
  let raw: unknown;
  try {
    raw = error.message;
  } catch (getterError) {
    return `[the error's message could not be read: ${text(isError(getterError) ? readProp(getterError, 'message') : getterError)}]`;
  }
  return text(raw);
}

/** `message` followed by the messages of its cause chain and AggregateError members, bounded. */
function withCauses(error: Error, message: string): string {
  const parts = [message];
  const seen = new Set<unknown>([error]);
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES; depth++) {
    if (typeof current !== 'object' || current === null) break;
    const members = readProp(current, 'errors');
    if (Array.isArray(members) && attempt(() => current instanceof AggregateError)) {
      const listed = members.slice(0, MAX_CAUSES).map((m) => (isError(m) ? errorMessage(m) : text(m)));
      parts.push(`[errors: ${listed.join('; ')}${members.length > MAX_CAUSES ? `; … ${members.length - MAX_CAUSES} more` : ''}]`);
    }
    const cause = readProp(current, 'cause');
    if (cause === undefined || seen.has(cause)) break;
    seen.add(cause);
    parts.push(`[cause: ${isError(cause) ? errorMessage(cause) : text(cause)}]`);
    current = cause;
    if (parts.join(' ').length > MAX_ERROR_MESSAGE) break;
  }
  return parts.join(' ');
}

/**
 * Describes a thrown value as a short message (with its cause chain), a name and a stack.
 * Total: never throws, whatever `thrown` is, and every string is bounded and storable.
 */
export function describeThrown(thrown: unknown): { message: string; name?: string; stack?: string } {
  try {
    if (isError(thrown)) {
      const out: { message: string; name?: string; stack?: string } = { message: bounded(withCauses(thrown, errorMessage(thrown)), MAX_ERROR_MESSAGE) };
      const name = readProp(thrown, 'name');
      if (typeof name === 'string') out.name = bounded(name, 200);
      const stack = readProp(thrown, 'stack');
      if (typeof stack === 'string') out.stack = bounded(stack, MAX_ERROR_STACK);
      return out;
    }
    if (thrown === undefined) return { message: 'undefined was thrown' };
    return { message: bounded(text(thrown), MAX_ERROR_MESSAGE) };
  } catch {
    // Unreachable by construction; kept so a future edit cannot make this function throw.
    return { message: `[a thrown ${typeof thrown} could not be described]` };
  }
}

/** The stored entry for one failed attempt. Never throws. */
export function errorEntry(thrown: unknown, attempt: number | undefined, at: Date, reason?: string): JobErrorEntry {
  const d = describeThrown(thrown);
  const entry: JobErrorEntry = { at: at.toISOString(), message: d.message };
  if (attempt !== undefined) entry.attempt = attempt;
  if (d.name !== undefined) entry.name = d.name;
  if (d.stack !== undefined) entry.stack = d.stack;
  if (reason !== undefined) entry.reason = reason;
  return entry;
}

/**
 * Applies a user's `redact` to one text, then bounds and sanitises the result. A redact that
 * throws or returns a non-string must not leak the unredacted text (it exists to hide secrets)
 * nor stop the failure from being recorded: the text is then replaced by a note.
 */
export function redactText(redact: (text: string) => string, value: string, max: number): string {
  let out: unknown;
  try {
    out = redact(value);
  } catch {
    return '[withheld: the redact option threw on this text]';
  }
  if (typeof out !== 'string') return '[withheld: the redact option returned a non-string]';
  return bounded(out, max);
}

/** Applies `redact` (if any) to a stored error entry's message and stack. Never throws. */
export function redactEntry(entry: JobErrorEntry, redact: ((text: string) => string) | undefined): JobErrorEntry {
  if (!redact) return entry;
  const out: JobErrorEntry = { ...entry, message: redactText(redact, entry.message, MAX_ERROR_MESSAGE) };
  if (entry.stack !== undefined) out.stack = redactText(redact, entry.stack, MAX_ERROR_STACK);
  return out;
}
