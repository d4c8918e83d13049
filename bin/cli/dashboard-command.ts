/**
 * `concordia dashboard`: the dashboard of `concordia/dashboard`, served on its own HTTP server
 * from the command line, until SIGINT or SIGTERM.
 *
 * Every flag is checked before the database is opened, so a typo costs no connection; the jobs
 * table is checked before the server listens, so a wrong `--table` fails at once (exit 3)
 * instead of as errors in the page.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { createJobs } from '../../lib/client.ts';
import { normalizeBasePath } from '../../lib/dashboard/base-path.ts';
import { createDashboard } from '../../lib/dashboard/create-dashboard.ts';
import { toNodeHandler } from '../../lib/dashboard/node-handler.ts';
import { jsonResponse } from '../../lib/dashboard/security-headers.ts';
import { describeForLog, type Logger } from '../../lib/logger.ts';
import type { Connection } from './connect.ts';
import { isLoopbackHost, MIN_TOKEN_LENGTH, standaloneAuthorize, TOKEN_VARIABLE } from './dashboard-access.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';

/** The port when `--port` is not given: the one the README's examples use. */
export const DEFAULT_PORT = 3000;
/** The address when `--host` is not given: loopback, so nothing is reachable from the network by accident. */
export const DEFAULT_HOST = '127.0.0.1';

/** The flags of `dashboard`, as parsed from the command line. */
export interface DashboardFlags {
  url?: string | undefined;
  db?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  basePath?: string | undefined;
  readOnly?: boolean | undefined;
  args?: boolean | undefined;
}

/** The checked settings of one `concordia dashboard` run. */
export interface DashboardSettings {
  /** The database URL from `--url` or `--db`; undefined to fall back to `$DATABASE_URL`. */
  url: string | undefined;
  port: number;
  host: string;
  /** Normalized: `''` for the root, else `/a/b`. */
  basePath: string;
  readOnly: boolean;
  showArgs: boolean;
  /** The shared token from the environment, if set. */
  token: string | undefined;
}

/** What `dashboard --json` prints once it listens. */
export interface DashboardReport {
  url: string;
  host: string;
  port: number;
  basePath: string;
  table: string;
  readOnly: boolean;
  tokenRequired: boolean;
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function shown(value: string): string {
  return JSON.stringify(value.slice(0, 80));
}

/** Checks the flags and the token; throws a usage error (exit 2) on anything wrong. */
export function checkDashboardOptions(flags: DashboardFlags, env: Record<string, string | undefined>): DashboardSettings {
  if (flags.url !== undefined && flags.db !== undefined && flags.url !== flags.db) {
    throw usage('dashboard: --db is another name for --url; give one of them, or the same URL to both.');
  }
  let port = DEFAULT_PORT;
  if (flags.port !== undefined) {
    if (!/^\d{1,5}$/.test(flags.port) || Number(flags.port) > 65_535) throw usage(`--port must be an integer from 0 to 65535, 0 for any free port (got ${shown(flags.port)}).`);
    port = Number(flags.port);
  }
  let host = DEFAULT_HOST;
  if (flags.host !== undefined) {
    const bare = flags.host.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) === 0 && !HOST_NAME.test(bare)) throw usage(`--host must be an IP address or a host name such as 0.0.0.0, ::1 or localhost (got ${shown(flags.host)}).`);
    host = bare;
  }
  let basePath: string;
  try {
    basePath = normalizeBasePath(flags.basePath ?? '/');
  } catch {
    throw usage(`--base-path must be an absolute path such as /admin/jobs, without "..", empty segments or a query (got ${shown(flags.basePath ?? '')}).`);
  }
  const token = env[TOKEN_VARIABLE];
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw usage(`${TOKEN_VARIABLE} must be at least ${MIN_TOKEN_LENGTH} characters without spaces (for example: openssl rand -hex 24), or unset.`);
    }
  } else if (!isLoopbackHost(host)) {
    throw usage(
      `dashboard: refusing to listen on ${host} without a token: anyone who reaches it could cancel and delete jobs. Set ${TOKEN_VARIABLE}, or leave out --host to listen on 127.0.0.1 only.`,
    );
  }
  return { url: flags.url ?? flags.db, port, host, basePath, readOnly: flags.readOnly === true, showArgs: flags.args === true, token };
}

/** `http://host:port/base/`, with an IPv6 address in brackets. */
function urlOf(host: string, port: number, basePath: string): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}${basePath}/`;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'the port is in use (pick another --port, or --port 0 for a free one)'
          : error.code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
              ? 'that address is not one of this machine'
              : describeForLog(error);
      reject(new CliError('LISTEN', EXIT.usage, `Cannot listen on ${host}:${port}: ${why}.`, { cause: error }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Resolves with the name of the first SIGINT or SIGTERM; `stop()` removes the listeners. */
function untilSignal(): { stopped: Promise<string>; stop(): void } {
  let stop = (): void => {};
  const stopped = new Promise<string>((resolve) => {
    const on = (signal: string): void => {
      stop();
      resolve(signal);
    };
    // Removed after the first signal, so a second Ctrl-C during a slow shutdown kills the process as usual.
    stop = () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  return { stopped, stop };
}

/** Closes the server and every connection still open, event streams included. */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Serves the dashboard on `conn` until SIGINT or SIGTERM, then closes the server and returns
 * (the caller closes the database). `out` gets the address once the server listens.
 */
export async function dashboardCommand(
  conn: Connection,
  settings: DashboardSettings,
  table: string | undefined,
  io: { out(text: string): void; err(text: string): void; json: boolean },
): Promise<void> {
  const jobs = createJobs({ adapter: conn.adapter, ...(table !== undefined && { table }) });
  await jobs.verify();
  const line = (message: string, fields?: Record<string, unknown>): void => io.err(`concordia: ${message}${fields?.['error'] === undefined ? '' : `: ${describeForLog(fields['error'])}`}\n`);
  const logger: Logger = { warn: line, error: line };
  const dashboard = createDashboard({
    jobs,
    basePath: settings.basePath,
    authorize: standaloneAuthorize(settings.token, settings.basePath),
    readOnly: settings.readOnly,
    showArgs: settings.showArgs,
    logger,
  });
  const handler = toNodeHandler(dashboard);
  const outside = (req: IncomingMessage, res: ServerResponse): void => {
    // Under a base path, the root leads to the dashboard; anything else is not ours.
    const root = (req.url ?? '/').split('?')[0] === '/';
    const response = root ? new Response(null, { status: 302, headers: { location: `${settings.basePath}/` } }) : jsonResponse({ error: { code: 'NOT_FOUND', message: `The dashboard is at ${settings.basePath}/.` } }, 404);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    void response.text().then((body) => res.end(body));
  };
  const failed = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    // Only a failure to write the answer reaches here (the dashboard turns its own errors into JSON).
    line(`dashboard: ${req.method} ${(req.url ?? '').split('?')[0]} could not be answered`, { error });
    if (res.headersSent) res.destroy();
    else res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The dashboard failed to answer.');
  };
  const server = createServer((req, res) => handler(req, res, (error) => (error === undefined ? outside(req, res) : failed(req, res, error))));
  // Listening for signals before the address is printed: whoever reads it may stop us at once.
  const signals = untilSignal();
  try {
    const address = await listen(server, settings.port, settings.host);
    const report: DashboardReport = {
      url: urlOf(settings.host, address.port, settings.basePath),
      host: settings.host,
      port: address.port,
      basePath: settings.basePath,
      table: jobs.table,
      readOnly: settings.readOnly,
      tokenRequired: settings.token !== undefined,
    };
    if (io.json) {
      io.out(`${JSON.stringify(report)}\n`);
    } else {
      io.out(`Concordia dashboard: ${report.url}\n`);
      io.out(`Table ${report.table} in ${conn.display}${settings.readOnly ? ', read-only' : ''}. Ctrl-C stops it.\n`);
      if (report.tokenRequired) io.out(`Sign in once by opening ${report.url}?token=<your ${TOKEN_VARIABLE}>.\n`);
    }
    const signal = await signals.stopped;
    await close(server);
    if (!io.json) io.out(`Stopped (${signal}).\n`);
  } finally {
    signals.stop();
    if (server.listening) await close(server);
  }
}
