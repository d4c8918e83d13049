/**
 * The `concordia` command line: argument parsing, dispatch, output and exit codes.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { createJobs } from '../../lib/client.ts';
import { ConcordiaError, InvalidIdentifierError } from '../../lib/errors.ts';
import { assertTableName } from '../../lib/validation.ts';
import { cancelCommand, checkJobId } from './cancel-command.ts';
import { connect } from './connect.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';
import { schemaCommand } from './schema-command.ts';
import { formatStatus, statusCommand } from './status-command.ts';
import { checkListOptions, formatList, listCommand } from './list-command.ts';
import { checkRetryId, retryCommand, retryRefusal } from './retry-command.ts';
import { checkPruneOptions, formatDuration, pruneCommand } from './prune-command.ts';

export const HELP = `Usage: concordia <command> [options]

Commands:
  schema [--orm sql|prisma|typeorm|mikro-orm|sequelize|drizzle|kysely|knex]
         [--db postgres|mysql|sqlite] [--table name]
                         Print the jobs table DDL, or your ORM's schema artifact
                         (--db is required for sql, prisma and drizzle).
  status [--url URL] [--table name] [--json]
                         Job counts by queue and state.
  list [--state s] [--queue q] [--kind k] [--limit n] [--args] [--url URL] [--table name] [--json]
                         Jobs, oldest first (default limit 100). Args only with --args.
  cancel <id> [--url URL] [--table name] [--json]
                         Cancel a job that has not started.
  retry <id> [--url URL] [--table name] [--json]
                         Put a discarded or cancelled job back to available, due now,
                         with its attempt count reset.
  prune [--older-than 7d] [--state completed|cancelled|discarded] [--batch-size n]
        [--url URL] [--table name] [--json]
                         Delete finished jobs older than the cutoff (default: completed, 7d).
  dashboard [--url URL | --db URL] [--port 3000] [--host 127.0.0.1] [--base-path /]
            [--read-only] [--args] [--table name] [--json]
                         Serve the web dashboard until Ctrl-C (SIGINT) or SIGTERM. Prints its
                         address (--json: one JSON line with "url"). --port 0 takes a free port.
                         --read-only refuses every action; --args shows job args in the detail.
                         Access: it listens on 127.0.0.1 unless --host says otherwise. If
                         CONCORDIA_DASHBOARD_TOKEN is set (16+ characters), every request needs
                         it: open <address>?token=<token> once in the browser (a cookie then
                         keeps you signed in), or send "Authorization: Bearer <token>". A --host
                         other than loopback (e.g. 0.0.0.0) is refused unless the token is set.

Options:
  --url URL     postgres://…, mysql://… (MariaDB), redis://… (rediss:// for TLS),
                dynamodb://host:port?region=…&table=…, firestore://<project>[?emulator=host:port&collection=name]
                or a SQLite file path. Default: $DATABASE_URL.
  --table name  The jobs table (on Redis: the key prefix name; on Firestore: the collection).
                Default: concordia_jobs.
  --json        Machine-readable output (errors too, on stdout).
  -h, --help    This help.

Exit codes: 0 ok, 1 not done (e.g. job not cancellable or retryable, unknown id), 2 usage error
            (dashboard: also a port it cannot listen on), 3 database error (unreachable, driver missing, table missing), 4 internal error.
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
          state: { type: 'string' },
          queue: { type: 'string' },
          kind: { type: 'string' },
          limit: { type: 'string' },
          args: { type: 'boolean' },
          'older-than': { type: 'string' },
          'batch-size': { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
          'base-path': { type: 'string' },
          'read-only': { type: 'boolean' },
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
    if (command === 'dashboard') {
      if (rest.length > 0) throw usage(`dashboard takes no arguments (got "${rest[0]}").`);
      // Loaded here only: --help and the other commands need none of the dashboard's code.
      const { checkDashboardOptions, dashboardCommand } = await import('./dashboard-command.ts');
      const settings = checkDashboardOptions(
        { url: v.url, db: v.db, port: v.port, host: v.host, basePath: v['base-path'], readOnly: v['read-only'], args: v.args },
        io.env,
      );
      // The table name is a flag too: checked before connecting, like the others.
      if (v.table !== undefined) assertTableName(v.table);
      const conn = await connect(settings.url ?? io.env['DATABASE_URL']);
      try {
        await dashboardCommand(conn, settings, v.table ?? conn.table, { out: io.out, err: io.err, json });
        return EXIT.ok;
      } finally {
        await conn.close().catch(() => {});
      }
    }
    if (!['status', 'cancel', 'list', 'retry', 'prune'].includes(command)) throw usage(`Unknown command "${command}". See concordia --help.`);
    if ((command === 'status' || command === 'list' || command === 'prune') && rest.length > 0) throw usage(`${command} takes no arguments (got "${rest[0]}").`);
    if ((command === 'cancel' || command === 'retry') && rest.length > 1) throw usage(`${command} takes one job id.`);
    // Checked before connecting, so a typo costs no round trip.
    const id = command === 'cancel' ? checkJobId(rest[0]) : command === 'retry' ? checkRetryId(rest[0]) : '';
    const listFilter = command === 'list' ? checkListOptions({ state: v.state, queue: v.queue, kind: v.kind, limit: v.limit, args: v.args }) : null;
    const pruneOptions = command === 'prune' ? checkPruneOptions({ state: v.state, olderThan: v['older-than'], batchSize: v['batch-size'] }) : null;
    const conn = await connect(v.url ?? io.env['DATABASE_URL']);
    try {
      const table = v.table ?? conn.table;
      const jobs = createJobs({ adapter: conn.adapter, ...(table !== undefined && { table }) });
      if (command === 'status') {
        const report = await statusCommand(jobs);
        io.out(json ? `${JSON.stringify(report)}\n` : formatStatus(report));
        return EXIT.ok;
      }
      if (listFilter) {
        const report = await listCommand(jobs, listFilter);
        io.out(json ? `${JSON.stringify(report)}\n` : formatList(report, listFilter.args));
        return EXIT.ok;
      }
      if (command === 'retry') {
        const report = await retryCommand(jobs, id);
        if (json) io.out(`${JSON.stringify(report)}\n`);
        else if (report.retried) io.out(`Retrying job ${report.id}: it is available again, due now.\n`);
        else io.err(`concordia: job ${report.id} was not retried: ${retryRefusal(report)}\n`);
        return report.retried ? EXIT.ok : EXIT.notDone;
      }
      if (pruneOptions) {
        // Progress goes to stderr, so stdout stays one summary (or one JSON document).
        const report = await pruneCommand(jobs, pruneOptions, (n) => io.err(`concordia: pruned ${n} ${pruneOptions.state} jobs so far…\n`));
        io.out(json ? `${JSON.stringify(report)}\n` : `Pruned ${report.deleted} ${report.state} job${report.deleted === 1 ? '' : 's'} finished more than ${formatDuration(report.olderThanMs)} ago.\n`);
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
