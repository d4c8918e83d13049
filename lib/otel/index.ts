/**
 * `concordia/otel`: OpenTelemetry tracing and metrics for enqueues and job executions, using
 * only `@opentelemetry/api` (bring your own SDK).
 *
 * The enqueue span's context travels in the job's metadata as W3C `traceparent` (and
 * `tracestate`), so the execution span continues the trace in whichever process runs the job.
 *
 * @example
 * ```ts
 * import { otelEnqueueHook, otelMiddleware } from 'concordia/otel';
 * const jobs = createJobs({ adapter, jobs: [sendEmail], onEnqueue: [otelEnqueueHook()] });
 * await jobs.work({ middleware: [otelMiddleware()] });
 * ```
 *
 * @module concordia/otel
 */
export { otelEnqueueHook, type OtelEnqueueHookOptions } from './enqueue-hook.ts';
export { otelMiddleware, type OtelMiddlewareOptions } from './otel-middleware.ts';
export { TRACEPARENT_KEY, TRACESTATE_KEY, extractTraceContext } from './trace-context.ts';
export { ATTR, METRIC, MESSAGING_SYSTEM } from './semantic-attributes.ts';
