/**
 * Tracing and metrics of job executions, as a {@link JobMiddleware}.
 *
 * @module
 */
import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type MeterProvider,
  type TracerProvider,
} from '@opentelemetry/api';
import type { JobMiddleware } from '../middleware.ts';
import { ATTR, MESSAGING_SYSTEM, METRIC } from './semantic-attributes.ts';
import { extractTraceContext } from './trace-context.ts';

/** Options of {@link otelMiddleware}. */
export interface OtelMiddlewareOptions {
  /** Where spans go. Default: the global tracer provider. */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider. */
  meterProvider?: MeterProvider;
  /**
   * How the execution span relates to the enqueue span found in the job's metadata:
   * `child` (default) continues the producer's trace, so request → enqueue → job is one tree;
   * `link` starts a new trace with a link to it (for fan-outs and long delays, where one trace
   * spanning hours is unhelpful). Either way a link to the producer is recorded.
   */
  parent?: 'child' | 'link';
  /** Wall clock for queue latency, in epoch ms. Default `Date.now`; pass `() => clock.now().getTime()` with a FakeClock. */
  now?: () => number;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * A {@link JobMiddleware} that wraps each execution in a `CONSUMER` span named
 * `process <queue>`, with the messaging semantic attributes (`messaging.system=concordia`,
 * `messaging.operation=process`, `messaging.destination.name`, `messaging.message.id`) and the
 * error status and exception on failure. It records `concordia.jobs.completed` and
 * `concordia.jobs.failed` (attempts, by queue and kind), the `messaging.process.duration`
 * histogram and the `concordia.job.queue_latency` histogram (enqueue → start), in seconds.
 *
 * @example
 * ```ts
 * const worker = await jobs.work({ middleware: [otelMiddleware()] });
 * ```
 */
export function otelMiddleware(options: OtelMiddlewareOptions = {}): JobMiddleware {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('concordia');
  const completed = meter.createCounter(METRIC.completed, { description: 'Job attempts that completed.', unit: '{job}' });
  const failed = meter.createCounter(METRIC.failed, { description: 'Job attempts that failed (retried or discarded).', unit: '{job}' });
  const duration = meter.createHistogram(METRIC.duration, { description: 'Duration of job handler executions.', unit: 's' });
  const latency = meter.createHistogram(METRIC.queueLatency, { description: 'Time from enqueue to the start of an attempt.', unit: 's' });
  const mode = options.parent ?? 'child';
  const now = options.now ?? Date.now;

  return async (job, next) => {
    const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('concordia');
    const producer = extractTraceContext(job.metadata);
    const links: Link[] = producer ? [{ context: producer }] : [];
    const active = context.active();
    // `link` mode drops any ambient span so the execution starts a trace of its own.
    const parentCtx = !producer ? active : mode === 'child' ? trace.setSpanContext(active, producer) : trace.deleteSpan(active);
    const metricAttrs: Attributes = { [ATTR.system]: MESSAGING_SYSTEM, [ATTR.destination]: job.queue, [ATTR.operationName]: 'process', [ATTR.jobKind]: job.kind };
    const span = tracer.startSpan(
      `process ${job.queue}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.operation]: 'process',
          [ATTR.operationName]: 'process',
          [ATTR.operationType]: 'process',
          [ATTR.destination]: job.queue,
          [ATTR.messageId]: job.id,
          [ATTR.jobKind]: job.kind,
          [ATTR.attempt]: job.attempt,
          [ATTR.maxAttempts]: job.maxAttempts,
        },
      },
      parentCtx,
    );
    latency.record(Math.max(0, now() - job.createdAt.getTime()) / 1000, metricAttrs);
    const started = performance.now();
    try {
      // The handler runs with this span active, so its own spans (HTTP, SQL) nest under it.
      await context.with(trace.setSpan(parentCtx, span), next);
      completed.add(1, metricAttrs);
      duration.record((performance.now() - started) / 1000, metricAttrs);
    } catch (error) {
      const type = errorName(error);
      const err = error instanceof Error ? error : new Error(String(error));
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      span.setAttribute(ATTR.errorType, type);
      failed.add(1, { ...metricAttrs, [ATTR.errorType]: type });
      duration.record((performance.now() - started) / 1000, { ...metricAttrs, [ATTR.errorType]: type });
      throw error;
    } finally {
      span.end();
    }
  };
}
