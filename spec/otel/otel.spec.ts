/**
 * concordia/otel against the real OpenTelemetry SDK (in-memory span exporter and metric
 * reader) on real databases: spans, parents, links, attributes and metric points as recorded.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type Histogram as HistogramPoint, type DataPoint } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobs, defineJob, type Jobs } from '../../lib/index.ts';
import { otelEnqueueHook, otelMiddleware, TRACEPARENT_KEY } from '../../lib/otel/index.ts';
import { drainQueue, FakeClock, listEnqueued } from '../../lib/testing/index.ts';
import { isReachable, type Db } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { betterSqlite3Harness, knexHarness, pgHarness } from '../support/harnesses.ts';
import { AlsContextManager } from './als-context-manager.ts';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

context.setGlobalContextManager(new AlsContextManager());

const cases: [string, Db, () => Promise<Harness>][] = [
  ['pg/postgres', 'postgres', pgHarness],
  ['knex/mysql (MariaDB)', 'mysql', () => knexHarness('mysql')],
  ['knex/sqlite', 'sqlite', () => knexHarness('sqlite')],
  ['better-sqlite3/sqlite', 'sqlite', betterSqlite3Harness],
];

describe.each(cases)('concordia/otel on %s', (_label, db, factory) => {
  let h: Harness;
  let available = true;
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = tracerProvider.getTracer('app');
  let reader: TestReader;
  let meterProvider: MeterProvider;

  beforeAll(async () => {
    available = await isReachable(db);
    if (available) h = await factory();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    exporter.reset();
    reader = new TestReader();
    meterProvider = new MeterProvider({ readers: [reader] });
  });

  const test = (name: string, fn: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (!available) return ctx.skip();
      await fn();
    });

  const spans = (kind: SpanKind): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.kind === kind);

  async function points(name: string): Promise<DataPoint<unknown>[]> {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
  }

  test('enqueue → execution is one trace: request span → producer span → consumer span → handler span', async () => {
    const ship = defineJob('o_ship', {
      queue: 'o_ship',
      handler: async () => {
        // The handler's own spans must nest under the execution span (active context).
        tracer.startActiveSpan('ship.http', (s) => s.end());
      },
    });
    const explode = defineJob('o_explode', { queue: 'o_ship', maxAttempts: 1, handler: async () => Promise.reject(new TypeError('no parcel')) });
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [ship, explode], onEnqueue: [otelEnqueueHook({ tracerProvider })] }) as Jobs<unknown>;

    const request = tracer.startSpan('POST /orders');
    const [shipId, explodeId] = await context.with(trace.setSpan(context.active(), request), () =>
      h.inTransaction(async (tx) => [await jobs.enqueue(tx, ship({ orderId: 'x' })), await jobs.enqueue(tx, explode({}))]),
    );
    request.end();

    const producers = spans(SpanKind.PRODUCER);
    expect(producers).toHaveLength(2);
    const [pShip, pExplode] = producers as [ReadableSpan, ReadableSpan];
    expect(pShip.name).toBe('publish o_ship');
    expect(pShip.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(pShip.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(pShip.attributes).toMatchObject({
      'messaging.system': 'concordia',
      'messaging.operation': 'publish',
      'messaging.destination.name': 'o_ship',
      'messaging.message.id': shipId,
      'concordia.job.kind': 'o_ship',
    });
    expect(pShip.status.code).toBe(SpanStatusCode.UNSET);

    // The context is stored with the job, in W3C form.
    const [row] = await listEnqueued(jobs, { kind: ship });
    expect((row?.metadata as Record<string, unknown>)[TRACEPARENT_KEY]).toBe(`00-${pShip.spanContext().traceId}-${pShip.spanContext().spanId}-01`);

    const result = await drainQueue(jobs, { queues: ['o_ship'], middleware: [otelMiddleware({ tracerProvider, meterProvider })] });
    expect(result.ran.map((r) => r.outcome)).toEqual(['completed', 'discarded']);

    const consumers = spans(SpanKind.CONSUMER);
    expect(consumers.map((s) => s.name)).toEqual(['process o_ship', 'process o_ship']);
    const cShip = consumers.find((s) => s.attributes['messaging.message.id'] === shipId)!;
    const cExplode = consumers.find((s) => s.attributes['messaging.message.id'] === explodeId)!;
    expect(cShip.parentSpanContext?.spanId).toBe(pShip.spanContext().spanId);
    expect(cShip.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(cShip.links.map((l) => l.context.spanId)).toEqual([pShip.spanContext().spanId]);
    expect(cShip.attributes).toMatchObject({
      'messaging.system': 'concordia',
      'messaging.operation': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'o_ship',
      'concordia.job.kind': 'o_ship',
      'concordia.job.attempt': 1,
    });
    expect(cShip.status.code).toBe(SpanStatusCode.UNSET);
    const http = exporter.getFinishedSpans().find((s) => s.name === 'ship.http')!;
    expect(http.parentSpanContext?.spanId).toBe(cShip.spanContext().spanId);

    expect(cExplode.parentSpanContext?.spanId).toBe(pExplode.spanContext().spanId);
    expect(cExplode.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no parcel' });
    expect(cExplode.attributes['error.type']).toBe('TypeError');
    expect(cExplode.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([['exception', 'TypeError', 'no parcel']]);

    const completed = await points('concordia.jobs.completed');
    expect(completed.map((p) => [p.attributes['concordia.job.kind'], p.attributes['messaging.destination.name'], p.value])).toEqual([['o_ship', 'o_ship', 1]]);
    const failed = await points('concordia.jobs.failed');
    expect(failed.map((p) => [p.attributes['concordia.job.kind'], p.attributes['error.type'], p.value])).toEqual([['o_explode', 'TypeError', 1]]);
    const durations = (await points('messaging.process.duration')) as DataPoint<HistogramPoint>[];
    expect(durations.reduce((n, p) => n + p.value.count, 0)).toBe(2);
    const latency = (await points('concordia.job.queue_latency')) as DataPoint<HistogramPoint>[];
    expect(latency.map((p) => [p.attributes['concordia.job.kind'], p.value.count])).toEqual([
      ['o_ship', 1],
      ['o_explode', 1],
    ]);
    expect(latency.every((p) => (p.value.min ?? -1) >= 0)).toBe(true);
  });

  test('queue latency is measured from enqueue to start on the client clock', async () => {
    const clock = new FakeClock(new Date('2030-06-01T12:00:00.000Z'));
    const tick = defineJob('o_tick', { queue: 'o_latency', handler: async () => {} });
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [tick], clock }) as Jobs<unknown>;
    await jobs.enqueueAutocommit(tick({ n: 1 }));
    await clock.advance(1_000);
    await jobs.enqueueAutocommit(tick({ n: 2 }));
    await clock.advance(2_500);
    await drainQueue(jobs, { queues: ['o_latency'], middleware: [otelMiddleware({ tracerProvider, meterProvider, now: () => clock.now().getTime() })] });
    const [latency] = (await points('concordia.job.queue_latency')) as DataPoint<HistogramPoint>[];
    // Enqueued at 12:00:00.000 and 12:00:01.000, both started at 12:00:03.500.
    expect([latency?.value.count, latency?.value.sum, latency?.value.min, latency?.value.max]).toEqual([2, 6, 2.5, 3.5]);
    expect(latency?.attributes).toEqual({
      'messaging.system': 'concordia',
      'messaging.destination.name': 'o_latency',
      'messaging.operation.name': 'process',
      'concordia.job.kind': 'o_tick',
    });
  });

  test('`link` mode starts a new trace linked to the producer', async () => {
    const note = defineJob('o_note', { queue: 'o_link', handler: async () => {} });
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [note], onEnqueue: [otelEnqueueHook({ tracerProvider })] }) as Jobs<unknown>;
    await jobs.enqueueAutocommit(note({}));
    await drainQueue(jobs, { queues: ['o_link'], middleware: [otelMiddleware({ tracerProvider, meterProvider, parent: 'link' })] });
    const [producer] = spans(SpanKind.PRODUCER);
    const [consumer] = spans(SpanKind.CONSUMER);
    expect(consumer?.spanContext().traceId).not.toBe(producer?.spanContext().traceId);
    expect(consumer?.parentSpanContext).toBeUndefined();
    expect(consumer?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[producer?.spanContext().traceId, producer?.spanContext().spanId]]);
  });

  test('a batch over two queues is one producer span; a failed insert marks it as an error', async () => {
    const a = defineJob('o_a', { handler: async () => {} });
    const jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [a], onEnqueue: [otelEnqueueHook({ tracerProvider })] }) as Jobs<unknown>;
    const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, [a({}, { queue: 'o_q1' }), a({}, { queue: 'o_q2' })]));
    const [batch] = spans(SpanKind.PRODUCER);
    expect(batch?.name).toBe('publish');
    expect(batch?.attributes['messaging.batch.message_count']).toBe(2);
    expect(batch?.attributes['messaging.destination.name']).toBeUndefined();
    const stored = await listEnqueued(jobs, { kind: a });
    expect(stored.filter((j) => ids.includes(j.id)).map((j) => (j.metadata as Record<string, string>)[TRACEPARENT_KEY])).toEqual([
      `00-${batch?.spanContext().traceId}-${batch?.spanContext().spanId}-01`,
      `00-${batch?.spanContext().traceId}-${batch?.spanContext().spanId}-01`,
    ]);

    exporter.reset();
    const broken = createJobs({ adapter: h.adapter, table: `${h.table}_missing`, jobs: [a], onEnqueue: [otelEnqueueHook({ tracerProvider })] });
    await expect(broken.enqueueAutocommit(a({}))).rejects.toThrow();
    const [failed] = spans(SpanKind.PRODUCER);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.events[0]?.name).toBe('exception');
  });
});
