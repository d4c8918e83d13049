/**
 * `toNodeHandler`: the dashboard in Node's `http` server and the frameworks built on it. It turns
 * the `IncomingMessage` into a web `Request` (aborted when the client goes away) and streams the
 * `Response` back, server-sent events included, honouring backpressure.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TLSSocket } from 'node:tls';
import { normalizeBasePath } from './base-path.ts';
import type { Dashboard } from './create-dashboard.ts';

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Where the dashboard is mounted, when the server cannot tell: a plain `http` server, Koa, or
   * a Fastify wildcard route. Not needed in Express (`app.use('/admin/jobs', handler)`), whose
   * mount path is read from each request. The dashboard's own `basePath` option, if set, wins.
   */
  basePath?: string;
}

/**
 * A Node request listener, and Connect/Express middleware: `next` is called for requests
 * outside the base path (and with the error if the response cannot be written).
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** What Express (and Connect) add to the request. */
interface FrameworkRequest extends IncomingMessage {
  /** Express: the URL before the mount path was taken off `url`. */
  originalUrl?: string;
  /** Express: the mount path of the router or app.use() that leads here. */
  baseUrl?: string;
  /** A body parser's result: the stream has then been read already. */
  body?: unknown;
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (":path") are not headers of a web Request.
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}

/** The body to hand on: the stream itself, or what a body parser already read from it. */
function requestBody(req: FrameworkRequest, headers: Headers): NonNullable<RequestInit['body']> | null {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const parsed = req.body;
  const consumed = req.readableEnded || (req as { _body?: unknown })._body === true;
  if (parsed !== undefined && consumed) {
    // Re-encoded, so the original length no longer applies.
    headers.delete('content-length');
    if (typeof parsed === 'string') return parsed;
    if (parsed instanceof Uint8Array) return new Uint8Array(parsed);
    return JSON.stringify(parsed);
  }
  return Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  if (response.headers.get('content-type')?.startsWith('text/event-stream') && 'shouldKeepAlive' in res) {
    // An event stream ends when the client leaves or the dashboard closes, the latter at
    // shutdown: the connection is closed with it rather than kept for another request, or a
    // server.close() already under way would wait out the keep-alive timeout. (HTTP/1 only.)
    res.shouldKeepAlive = false;
  }
  // Sent now: an event stream's first event may be a while coming.
  res.flushHeaders();
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), res);
  } catch (error) {
    // The client went away mid-body: pipeline has cancelled the body, which is all there is to do.
    if (res.destroyed || (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw error;
  }
}

/**
 * Wraps a dashboard for Node's `http` module, Express, Koa and Fastify.
 *
 * @example
 * ```ts
 * // Express: the mount path is read from each request.
 * app.use('/admin/jobs', toNodeHandler(dashboard));
 * // node:http
 * http.createServer(toNodeHandler(dashboard, { basePath: '/admin/jobs' })).listen(3000);
 * ```
 */
export function toNodeHandler(dashboard: Dashboard, options: NodeHandlerOptions = {}): NodeHandler {
  const fixedBase = options.basePath === undefined ? undefined : normalizeBasePath(options.basePath);
  const serve = async (req: FrameworkRequest, res: ServerResponse, next: ((error?: unknown) => void) | undefined): Promise<void> => {
    const rawUrl = req.originalUrl ?? req.url ?? '/';
    const base = dashboard.basePath ?? fixedBase ?? (typeof req.baseUrl === 'string' ? normalizeBasePath(req.baseUrl, 'req.baseUrl') : undefined);
    const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
    // Joined as text: a path such as "//other.example/x" must not be read as another host.
    const url = new URL(rawUrl.startsWith('/') ? `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${rawUrl}` : rawUrl);
    if (base !== undefined && base !== '' && url.pathname !== base && !url.pathname.startsWith(`${base}/`) && next) {
      next();
      return;
    }
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const headers = requestHeaders(req);
    const body = requestBody(req, headers);
    const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, body, signal: abort.signal };
    if (body instanceof ReadableStream) init.duplex = 'half';
    const response = await dashboard.handle(new Request(url, init), base === undefined ? {} : { basePath: base });
    await writeResponse(response, res);
  };
  return (req, res, next) => {
    serve(req, res, next).catch((error: unknown) => {
      if (next) return next(error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end('The dashboard failed to answer.');
      } else {
        res.destroy(error instanceof Error ? error : undefined);
      }
    });
  };
}
