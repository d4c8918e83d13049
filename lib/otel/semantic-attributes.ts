/**
 * Attribute names and values Concordia's telemetry uses: the OpenTelemetry messaging semantic
 * conventions (both the older `messaging.operation` and the current `messaging.operation.*`
 * names, so dashboards of either generation match), plus a few `concordia.*` extras.
 *
 * Written out here rather than imported from `@opentelemetry/semantic-conventions`, so the only
 * runtime dependency stays `@opentelemetry/api`.
 *
 * @module
 */

/** `messaging.system` of every span and metric point. */
export const MESSAGING_SYSTEM = 'concordia';

/** The attribute names used. */
export const ATTR = {
  system: 'messaging.system',
  /** Older convention: `publish` / `process`. */
  operation: 'messaging.operation',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  jobKind: 'concordia.job.kind',
  attempt: 'concordia.job.attempt',
  maxAttempts: 'concordia.job.max_attempts',
} as const;

/** The metric instrument names. */
export const METRIC = {
  completed: 'concordia.jobs.completed',
  failed: 'concordia.jobs.failed',
  /** Semantic-convention name: handler execution time, seconds. */
  duration: 'messaging.process.duration',
  /** Seconds from enqueue (`created_at`) to the start of this attempt. */
  queueLatency: 'concordia.job.queue_latency',
} as const;
