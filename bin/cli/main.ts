/**
 * The `concordia` command line: argument parsing, dispatch, output and exit codes.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { createJobs } from '../../lib/client.ts';
import { ConcordiaError, InvalidIdentifierError } from '../../lib/errors.ts';
import { cancelCommand, checkJobId } from './cancel-command.ts';
import { connect } from './connect.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';
import { schemaCommand } from './schema-command.ts';
import { formatStatus, statusCommand } from './status-command.ts';

export const HELP = `Usage: concordia <command> [options]

Commands:
  schema --db postgres|mysql|sqlite [--orm sql] [--table name]
                         Print the jobs table DDL.
  status [--url URL] [--table name] [--json]
                         Job counts by queue and state.
  cancel <id> [--url URL] [--table name] [--json]
                         Cancel a job that has not started.

Options:
  --url URL     postgres://…, mysql://… (MariaDB) or a SQLite file path. Default: $DATABASE_URL.
  --table name  The jobs table. Default: concordia_jobs.
  --json        Machine-readable output (errors too, on stdout).
  -h, --help    This help.

Exit codes: 0 ok, 1 not done (e.g. job not cancellable), 2 usage error,
            3 database error (unreachable, driver missing, table missing), 4 internal error.
`;

/** Where the CLI writes; a seam so the same code serves the binary and in-process callers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/** Classifies any thrown value into a {@link CliError}. */
function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof InvalidIdentifierError) return new CliError('USAGE', EXIT.usage, error.message);
  if (error instanceof ConcordiaError) return new CliError(error.code, EXIT.database, error.message, { cause: error });
  // Driver errors (connection refused, access denied, unknown database) carry no common type.
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object' && (typeof e.code === 'string' || /connect|database|ECONN|timeout|access denied/i.test(String(e.message)))) {
    return new CliError('DATABASE', EXIT.database, `Database error: ${String(e.message ?? e.code)}${typeof e.code === 'string' ? ` (${e.code})` : ''}`, { cause: error });
  }
  return new CliError('INTERNAL', EXIT.internal, `Internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          db: { type: 'string' },
          orm: { type: 'string' },
          table: { type: 'string' },
          url: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw usage(`${(error as Error).message}. See concordia --help.`);
    }
    const { values: v, positionals } = parsed;
    json = v.json === true;
    const [command, ...rest] = positionals;
    if (v.help || command === 'help' || command === undefined) {
      io.out(HELP);
      return command === undefined && !v.help ? EXIT.usage : EXIT.ok;
    }
    if (command === 'schema') {
      if (rest.length > 0) throw usage(`schema takes no arguments (got "${rest[0]}").`);
      io.out(schemaCommand({ db: v.db, orm: v.orm, table: v.table }));
      return EXIT.ok;
    }
    if (command !== 'status' && command !== 'cancel') throw usage(`Unknown command "${command}". See concordia --help.`);
    if (command === 'status' && rest.length > 0) throw usage(`status takes no arguments (got "${rest[0]}").`);
    if (command === 'cancel' && rest.length > 1) throw usage('cancel takes one job id.');
    // Checked before connecting, so a typo costs no round trip.
    const id = command === 'cancel' ? checkJobId(rest[0]) : '';
    const conn = await connect(v.url ?? io.env['DATABASE_URL']);
    try {
      const jobs = createJobs({ adapter: conn.adapter, ...(v.table !== undefined && { table: v.table }) });
      if (command === 'status') {
        const report = await statusCommand(jobs);
        io.out(json ? `${JSON.stringify(report)}\n` : formatStatus(report));
        return EXIT.ok;
      }
      const report = await cancelCommand(jobs, id);
      if (json) io.out(`${JSON.stringify(report)}\n`);
      else if (report.cancelled) io.out(`Cancelled job ${report.id}.\n`);
      else io.err(`concordia: job ${report.id} was not cancelled: it does not exist, is running, or has already finished.\n`);
      return report.cancelled ? EXIT.ok : EXIT.notDone;
    } finally {
      await conn.close().catch(() => {});
    }
  } catch (error) {
    const e = toCliError(error);
    if (json) io.out(`${JSON.stringify({ error: { code: e.code, message: e.message, exitCode: e.exitCode } })}\n`);
    else io.err(`concordia: ${e.message}\n`);
    return e.exitCode;
  }
}
