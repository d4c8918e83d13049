/**
 * The trace context a job carries in its metadata: W3C Trace Context, written and read here
 * directly (no propagator needed), so it works whatever the application configured globally.
 *
 * @module
 */
import { isSpanContextValid, TraceFlags, type SpanContext } from '@opentelemetry/api';
import type { JsonObject } from '../validation.ts';

/** Metadata key of the W3C `traceparent` header value of the enqueueing span. */
export const TRACEPARENT_KEY = 'traceparent';
/** Metadata key of the W3C `tracestate` header value, present when the span had one. */
export const TRACESTATE_KEY = 'tracestate';

/** Writes `span`'s context into `metadata` (a copy is not needed: the hook owns it). */
export function injectTraceContext(sc: SpanContext, metadata: JsonObject): void {
  if (!isSpanContextValid(sc)) return;
  metadata[TRACEPARENT_KEY] = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
  const state = sc.traceState?.serialize();
  if (state) metadata[TRACESTATE_KEY] = state;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Reads the producer's span context from job metadata; undefined when absent or malformed. */
export function extractTraceContext(metadata: JsonObject | null): SpanContext | undefined {
  const value = metadata?.[TRACEPARENT_KEY];
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const sc: SpanContext = { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
  // tracestate is carried through for completeness but not parsed: the API has no public parser.
  return isSpanContextValid(sc) ? sc : undefined;
}
