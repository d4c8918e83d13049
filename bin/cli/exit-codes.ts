/**
 * The CLI's exit codes and its one error type. Scripts branch on the code, so each is stable.
 *
 * @module
 */

/**
 * - `0` OK
 * - `1` the command ran but did not do what was asked (e.g. `cancel` of a job that is running,
 *   finished or unknown)
 * - `2` usage error: unknown command or option, bad value, missing `--url`
 * - `3` database error: unreachable, driver not installed, jobs table missing or outdated
 * - `4` unexpected internal error (a bug: please report it)
 */
export const EXIT = { ok: 0, notDone: 1, usage: 2, database: 3, internal: 4 } as const;

/** An error the CLI reports as one line on stderr (or as JSON with `--json`) with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /** A stable machine-readable code, e.g. `USAGE`, `DATABASE`. */
  readonly code: string;
  constructor(code: string, exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A usage error (exit 2). */
export function usage(message: string): CliError {
  return new CliError('USAGE', EXIT.usage, message);
}
