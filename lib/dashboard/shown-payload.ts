/**
 * How job payloads leave the server: args and metadata only where the app allows it, every text
 * passed through the app's `redact` first, then cut past 64 KiB with a visible marker, so a
 * huge payload can neither leak a secret the redaction would have caught nor break the page.
 *
 * @module
 */
import type { JobErrorEntry } from '../job.ts';
import type { JobDetail, JobSummary } from './dashboard-store.ts';

/** The most bytes (UTF-8) of one text the dashboard sends. */
export const MAX_SHOWN_BYTES = 64 * 1024;

/** A text as shown: possibly cut, with its full size. */
export interface ShownText {
  text: string;
  /** Size of the whole (redacted) text in UTF-8 bytes. */
  bytes: number;
  truncated: boolean;
}

/** `redact` made safe: a redaction that throws must not let the raw text through. */
export function safeRedact(redact: ((text: string) => string) | undefined): (text: string) => string {
  if (!redact) return (text) => text;
  return (text) => {
    try {
      const out = redact(text);
      return typeof out === 'string' ? out : '[redaction failed]';
    } catch {
      return '[redaction failed]';
    }
  };
}

/** The first `max` bytes of `text`'s UTF-8, cut on a character boundary, and the whole size. */
export function shownText(text: string, max = MAX_SHOWN_BYTES): ShownText {
  const utf8 = Buffer.from(text, 'utf8');
  if (utf8.length <= max) return { text, bytes: utf8.length, truncated: false };
  let end = max;
  // Continuation bytes are 10xxxxxx: back up to the first byte of the character cut in two.
  while (end > 0 && (utf8[end]! & 0xc0) === 0x80) end--;
  const marker = `\n… [truncated: ${end} of ${utf8.length} bytes shown]`;
  return { text: utf8.subarray(0, end).toString('utf8') + marker, bytes: utf8.length, truncated: true };
}

/** One attempt's error as the page shows it. */
export interface ShownError {
  attempt: number | null;
  at: string;
  name: string | null;
  reason: string | null;
  message: ShownText;
  stack: ShownText | null;
}

/** The most bytes of a list row's last error: the row shows a line, the detail has the whole. */
export const MAX_SUMMARY_ERROR_BYTES = 1024;

/** A list row as the API sends it: its last error redacted and cut. */
export function shownSummary<T extends JobSummary>(job: T, redact: (text: string) => string): T {
  return typeof job.lastError === 'string' ? { ...job, lastError: shownText(redact(job.lastError), MAX_SUMMARY_ERROR_BYTES).text } : job;
}

/** A job's detail as the API sends it. */
export type ShownJobDetail = Omit<JobDetail, 'args' | 'metadata' | 'errors'> & {
  /** True when args and metadata were withheld (`showArgs` is off for this principal). */
  argsHidden: boolean;
  args: ShownText | null;
  metadata: ShownText | null;
  errors: ShownError[];
};

function shownError(entry: JobErrorEntry, redact: (text: string) => string): ShownError {
  const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
  return {
    attempt: typeof entry.attempt === 'number' ? entry.attempt : null,
    at: text(entry.at),
    name: typeof entry.name === 'string' ? entry.name : null,
    reason: typeof entry.reason === 'string' ? entry.reason : null,
    message: shownText(redact(text(entry.message))),
    stack: typeof entry.stack === 'string' ? shownText(redact(entry.stack)) : null,
  };
}

/** The detail of one job, withheld, redacted and cut as the options say. */
export function shownDetail(job: JobDetail, options: { showArgs: boolean; redact: (text: string) => string }): ShownJobDetail {
  const { args, metadata, errors, ...rest } = job;
  const redact = options.redact;
  return {
    ...shownSummary(rest, redact),
    argsHidden: !options.showArgs,
    args: options.showArgs ? shownText(redact(args)) : null,
    metadata: options.showArgs && metadata !== null ? shownText(redact(metadata)) : null,
    // A row written by something other than Concordia may hold entries that are not objects.
    errors: Array.isArray(errors)
      ? errors.map((entry: unknown) => shownError(entry !== null && typeof entry === 'object' ? (entry as JobErrorEntry) : { at: '', message: String(entry) }, redact))
      : [],
  };
}
