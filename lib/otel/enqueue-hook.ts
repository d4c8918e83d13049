/**
 * Tracing of enqueues: a producer span per batch, and its context written into each job.
 *
 * @module
 */
import { context, SpanKind, SpanStatusCode, trace, type Span, type TracerProvider } from '@opentelemetry/api';
import type { EnqueueHook } from '../client.ts';
import { ATTR, MESSAGING_SYSTEM } from './semantic-attributes.ts';
import { injectTraceContext } from './trace-context.ts';

/** Options of {@link otelEnqueueHook}. */
export interface OtelEnqueueHookOptions {
  /** Where spans go. Default: the global tracer provider. */
  tracerProvider?: TracerProvider;
  /** Set false to trace without writing `traceparent` into job metadata. Default true. */
  propagate?: boolean;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * An {@link EnqueueHook} that opens one `PRODUCER` span per enqueue call (a child of the active
 * span, e.g. your HTTP request), named `publish <queue>`, and writes its W3C context into every
 * job's metadata under `traceparent` (and `tracestate`), for {@link otelMiddleware} to continue.
 * The span ends when the insert returns; it cannot know whether your transaction commits.
 *
 * @example
 * ```ts
 * const jobs = createJobs({ adapter, jobs: [sendEmail], onEnqueue: [otelEnqueueHook()] });
 * ```
 */
export function otelEnqueueHook(options: OtelEnqueueHookOptions = {}): EnqueueHook {
  const provider = options.tracerProvider;
  const propagate = options.propagate ?? true;
  return (pending) => {
    if (pending.length === 0) return;
    const tracer = (provider ?? trace.getTracerProvider()).getTracer('concordia');
    const queues = [...new Set(pending.map((p) => p.queue))];
    const kinds = [...new Set(pending.map((p) => p.kind))];
    const queue = queues.length === 1 ? queues[0]! : undefined;
    const span: Span = tracer.startSpan(
      queue === undefined ? 'publish' : `publish ${queue}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.operation]: 'publish',
          [ATTR.operationName]: 'publish',
          [ATTR.operationType]: 'send',
          ...(queue !== undefined && { [ATTR.destination]: queue }),
          ...(kinds.length === 1 && { [ATTR.jobKind]: kinds[0]! }),
          ...(pending.length > 1 && { [ATTR.batchCount]: pending.length }),
        },
      },
      context.active(),
    );
    if (propagate) {
      for (const job of pending) injectTraceContext(span.spanContext(), (job.metadata ??= {}));
    }
    return (outcome) => {
      if (outcome.ids === undefined) {
        const err = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        span.setAttribute(ATTR.errorType, errorName(outcome.error));
      } else if (outcome.ids.length === 1) {
        span.setAttribute(ATTR.messageId, outcome.ids[0]!);
      }
      span.end();
    };
  };
}
