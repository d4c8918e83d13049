/**
 * Job args never reach the worker's logger or its events: every log path the worker has is
 * provoked on a real SQLite database (handler failure, a throwing retry policy, a failing
 * database call, an unknown kind, args its `parse` refuses) and the secret is looked for in
 * everything logged and emitted.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJobs, defineJob, type Adapter, type Executor, type Jobs, type Logger } from '../../lib/index.ts';
import { drainQueue } from '../../lib/testing/index.ts';
import type { Harness } from '../support/harness.ts';
import { betterSqlite3Harness } from '../support/harnesses.ts';

const SECRET = 'card-4111-1111-1111-1111';
let h: Harness;
beforeAll(async () => {
  h = await betterSqlite3Harness();
});
afterAll(async () => {
  await h?.close();
});

/** Wraps an adapter so that its next claim fails once, as a dropped connection would. */
function failingOnce(adapter: Adapter<unknown, Executor>): Adapter<unknown, Executor> {
  let armed = true;
  const wrap = (ex: Executor): Executor => ({
    ...ex,
    query: async (sql, params) => {
      if (armed && /state = 'running'/.test(sql) && /attempt = attempt \+ 1/.test(sql)) {
        armed = false;
        throw new Error('connection reset by peer');
      }
      return ex.query(sql, params);
    },
  });
  return { ...adapter, autocommit: () => wrap(adapter.autocommit()), transaction: (fn, o) => adapter.transaction((ex) => fn(wrap(ex)), o) };
}

it('no log line, log field or event payload carries job args', async () => {
  const lines: unknown[] = [];
  const capture: Logger = {
    debug: (m, f) => void lines.push([m, f]),
    info: (m, f) => void lines.push([m, f]),
    warn: (m, f) => void lines.push([m, f]),
    error: (m, f) => void lines.push([m, f]),
  };
  const pay = defineJob('l_pay', { queue: 'l_q', maxAttempts: 2, handler: async () => Promise.reject(new Error('gateway down')) });
  const strict = defineJob('l_strict', {
    queue: 'l_q',
    parse: (): { card: string } => {
      throw new TypeError('bad shape');
    },
    handler: async () => {},
  });
  const ghost = defineJob('l_ghost', { queue: 'l_q', handler: async () => {} });
  const jobs = createJobs({ adapter: failingOnce(h.adapter as Adapter<unknown, Executor>), table: h.table, jobs: [pay, strict] }) as Jobs<unknown>;
  const other = createJobs({ adapter: h.adapter, table: h.table, jobs: [ghost] });
  await jobs.enqueueManyAutocommit([pay({ card: SECRET }), strict({ card: SECRET })]);
  await other.enqueueAutocommit(ghost({ card: SECRET }));

  const worker = jobs.createWorker({
    queues: ['l_q'],
    pollIntervalMs: 10,
    logger: capture,
    retryPolicy: {
      delayMs: () => {
        throw new Error('policy broke');
      },
    },
  });
  const events: [string, unknown][] = [];
  for (const name of ['job:started', 'job:completed', 'job:retried', 'job:discarded', 'db-error'] as const) {
    worker.on(name, (payload) => void events.push([name, payload]));
  }
  const discarded = new Promise<void>((resolve) => {
    let n = 0;
    worker.on('job:discarded', () => void (++n === 3 && resolve()));
  });
  await worker.start();
  await discarded;
  await worker.stop();

  // Every path ran: the failed claim, the policy error, the retry and the three discards.
  const text = (v: unknown): string => inspect(v, { depth: Infinity, breakLength: Infinity });
  expect(lines.map((l) => (l as [string])[0])).toEqual(
    expect.arrayContaining(['concordia: claim failed; will retry', 'concordia: the retry policy threw; retrying in 1 s']),
  );
  expect(events.filter(([n]) => n === 'job:discarded').map(([, p]) => (p as { reason: string }).reason).sort()).toEqual(['invalid_args', 'max_attempts', 'unknown_kind']);
  expect(text(lines)).not.toContain(SECRET);
  expect(text(events)).not.toContain(SECRET);
  // Every job reached a final state: nothing is left to run.
  expect((await drainQueue(jobs, { queues: ['l_q'] })).ran).toEqual([]);
}, 20_000);
