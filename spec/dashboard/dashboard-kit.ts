/**
 * Helpers of the dashboard specs: a real node:http server around a handler, a reader of
 * server-sent events that awaits events instead of sleeping, and a logger that records lines.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../lib/logger.ts';

/** Listens on a free loopback port; `close()` also ends open connections (event streams). */
export async function listen(listener: RequestListener): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One parsed server-sent event, or a comment line. */
export interface SseItem {
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

/**
 * Parses an event-stream body as it arrives. `next(predicate)` resolves with the first item
 * from now on (or already buffered and not yet taken) that matches.
 */
export function sseReader(body: ReadableStream<Uint8Array>) {
  const items: SseItem[] = [];
  const waiting: { match: (item: SseItem) => boolean; resolve: (item: SseItem) => void; reject: (error: Error) => void }[] = [];
  const raw: string[] = [];
  let ended = false;
  const deliver = (item: SseItem): void => {
    const i = waiting.findIndex((w) => w.match(item));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(item);
    else items.push(item);
  };
  const done = (async () => {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        raw.push(value);
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event: SseItem = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) deliver({ comment: line.slice(1).trim() });
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) event.data = (event.data === undefined ? '' : `${event.data}\n`) + line.slice(6);
            else if (line.startsWith('retry: ')) event.retry = Number(line.slice(7));
          }
          if (event.event !== undefined || event.data !== undefined || event.retry !== undefined) deliver(event);
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      ended = true;
      for (const w of waiting.splice(0)) w.reject(new Error('the event stream ended'));
    }
  })();
  return {
    /** Everything received so far, as text. */
    raw: () => raw.join(''),
    next(match: (item: SseItem) => boolean): Promise<SseItem> {
      const i = items.findIndex(match);
      if (i >= 0) return Promise.resolve(items.splice(i, 1)[0]!);
      if (ended) return Promise.reject(new Error('the event stream ended'));
      return new Promise((resolve, reject) => waiting.push({ match, resolve, reject }));
    },
    /** Resolves when the body has ended. */
    ended: done,
  };
}

/** A `counts` event's data. */
export interface CountsData {
  counts: { queue: string; state: string; count: number; estimated: boolean }[];
  paused: string[];
}

/** The next `counts` event whose data satisfies `ok`. */
export async function countsWhere(reader: ReturnType<typeof sseReader>, ok: (data: CountsData) => boolean): Promise<CountsData> {
  const item = await reader.next((i) => i.event === 'counts' && ok(JSON.parse(i.data!) as CountsData));
  return JSON.parse(item.data!) as CountsData;
}

/** A logger that keeps every line and lets a test await one. */
export function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] = [];
  const waiting: { match: RegExp; resolve: () => void }[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
    for (const w of waiting.filter((w) => w.match.test(message))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  const logger: Required<Logger> = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  return {
    logger,
    lines,
    /** Resolves at the next line (from now on) whose message matches. */
    next: (match: RegExp) => new Promise<void>((resolve) => waiting.push({ match, resolve })),
  };
}
