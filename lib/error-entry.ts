/**
 * Turns whatever a handler threw into a bounded, JSON-safe entry for the job's `errors` column.
 *
 * @internal
 */
import type { JobErrorEntry } from './job.ts';

export const MAX_ERROR_MESSAGE = 4 * 1024;
export const MAX_ERROR_STACK = 16 * 1024;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 15)}… [truncated]`;
}

/** JSON.stringify that survives cycles, BigInt and throwing getters. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'bigint') return `${v}n`;
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? String(value)
    );
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Describes a thrown value as a short message. */
export function describeThrown(thrown: unknown): { message: string; name?: string; stack?: string } {
  if (thrown instanceof Error) {
    const out: { message: string; name?: string; stack?: string } = {
      message: truncate(String(thrown.message), MAX_ERROR_MESSAGE),
      name: thrown.name,
    };
    if (typeof thrown.stack === 'string') out.stack = truncate(thrown.stack, MAX_ERROR_STACK);
    return out;
  }
  if (typeof thrown === 'string') return { message: truncate(thrown, MAX_ERROR_MESSAGE) };
  if (thrown === undefined) return { message: 'undefined was thrown' };
  return { message: truncate(safeStringify(thrown), MAX_ERROR_MESSAGE) };
}

export function errorEntry(thrown: unknown, attempt: number | undefined, at: Date, reason?: string): JobErrorEntry {
  const d = describeThrown(thrown);
  const entry: JobErrorEntry = { at: at.toISOString(), message: d.message };
  if (attempt !== undefined) entry.attempt = attempt;
  if (d.name !== undefined) entry.name = d.name;
  if (d.stack !== undefined) entry.stack = d.stack;
  if (reason !== undefined) entry.reason = reason;
  return entry;
}
