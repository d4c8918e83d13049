/**
 * `GET /api/events`: a server-sent event stream with a `counts` event whenever the counts by
 * queue and state (or the paused queues) change, the first one at once. Comment lines keep an
 * idle stream open through proxies. The stream ends when the client goes away (the request's
 * signal, or the body being cancelled), or when the dashboard closes (its `close()` calls every
 * function in `open`), and then leaves the shared feed.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { SafeLogger } from '../logger.ts';
import type { CountsFeed } from './counts-feed.ts';
import { secure } from './security-headers.ts';

const encoder = new TextEncoder();

/** What an event stream needs besides its feed and request. */
export interface EventStreamOptions {
  heartbeatMs: number;
  clock: Clock;
  logger: SafeLogger;
  /** The ends of the open streams: each stream adds its own while open, the dashboard's close() calls them. */
  open: Set<() => void>;
}

export function eventStream(feed: CountsFeed, request: Request, options: EventStreamOptions): Response {
  const { clock, logger, heartbeatMs, open: openStreams } = options;
  let close = (): void => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      let last: string | null = null;
      let heartbeat: TimerHandle | null = null;
      const send = (text: string): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const beat = (): void => {
        heartbeat = clock.setTimeout(() => {
          send(': heartbeat\n\n');
          if (open) beat();
        }, heartbeatMs);
      };
      const unsubscribe = feed.subscribe((snapshot) => {
        const text = JSON.stringify(snapshot);
        if (text === last) return;
        last = text;
        send(`event: counts\ndata: ${text}\n\n`);
      });
      close = () => {
        if (!open) return;
        open = false;
        openStreams.delete(close);
        unsubscribe();
        if (heartbeat !== null) clock.clearTimeout(heartbeat);
        request.signal.removeEventListener('abort', close);
        try {
          controller.close();
        } catch {
          // Already closed or errored by the consumer.
        }
        logger.debug('dashboard: event stream closed', { open: feed.subscribers });
      };
      request.signal.addEventListener('abort', close);
      openStreams.add(close);
      // Tells EventSource how soon to reconnect after a drop, and opens the stream at once.
      send('retry: 3000\n: connected\n\n');
      beat();
      if (request.signal.aborted) close();
    },
    cancel() {
      close();
    },
  });
  const headers = secure(new Headers({ 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' }), true);
  return new Response(body, { status: 200, headers });
}
