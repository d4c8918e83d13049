/**
 * Hostile suite, class "values thrown by handlers that resist being described", on PostgreSQL,
 * MariaDB and SQLite. A handler may throw anything: an Error whose getters throw, a Proxy whose
 * every trap throws, a Symbol, a circular object, megabytes of text, text the database refuses
 * (NUL, lone surrogates). Invariants in every case: the job ends in a recorded state with a
 * description of the real error stored, the worker keeps running other jobs, and nothing
 * escapes as an unhandled rejection, even with a `redact` that throws and a `logger: {}`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, type Jobs, type Worker, type WorkOptions } from '../../lib/index.ts';
import { isReachable } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';
import { rawDriverHarness } from '../support/harnesses.ts';
import { escapeTrap } from './escape-trap.ts';

/** Throws on every trap a describer might touch. */
const hostileTraps: ProxyHandler<object> = {
  get() {
    throw new Error('trap: get');
  },
  getPrototypeOf() {
    throw new Error('trap: getPrototypeOf');
  },
  has() {
    throw new Error('trap: has');
  },
  ownKeys() {
    throw new Error('trap: ownKeys');
  },
  getOwnPropertyDescriptor() {
    throw new Error('trap: getOwnPropertyDescriptor');
  },
};

class MessageGetterThrows extends Error {
  override get message(): string {
    throw new Error('message getter boom');
  }
}

class EverythingThrows extends Error {
  override get message(): string {
    throw new Error('message getter boom');
  }
  override get name(): string {
    throw new Error('name getter boom');
  }
  override get stack(): string {
    throw new Error('stack getter boom');
  }
  override get cause(): unknown {
    throw new Error('cause getter boom');
  }
}

const circular: Record<string, unknown> = { label: 'circular' };
circular['self'] = circular;

/** Each case: what the handler throws, and what the stored message must show. */
const cases: Record<string, { make: () => unknown; expect: (message: string) => void }> = {
  messageGetterThrows: { make: () => new MessageGetterThrows(), expect: (m) => expect(m).toContain('message getter boom') },
  everyGetterThrows: { make: () => new EverythingThrows(), expect: (m) => expect(m).toContain('could not be read') },
  hostileProxy: { make: () => new Proxy({}, hostileTraps), expect: (m) => expect(m.length).toBeGreaterThan(0) },
  hostileProxyOfError: { make: () => new Proxy(new Error('hidden'), hostileTraps), expect: (m) => expect(m.length).toBeGreaterThan(0) },
  transparentProxyOfError: { make: () => new Proxy(new Error('proxied message'), {}), expect: (m) => expect(m).toBe('proxied message') },
  circular: { make: () => circular, expect: (m) => expect(m).toContain('[Circular]') },
  huge: { make: () => new Error('x'.repeat(5_000_000)), expect: (m) => expect(m.length).toBeLessThan(5000) },
  hugeString: { make: () => 'y'.repeat(5_000_000), expect: (m) => expect(m.length).toBeLessThan(5000) },
  symbol: { make: () => Symbol('thrown symbol'), expect: (m) => expect(m).toBe('Symbol(thrown symbol)') },
  null: { make: () => null, expect: (m) => expect(m).toBe('null') },
  undefined: { make: () => undefined, expect: (m) => expect(m).toBe('undefined was thrown') },
  bigint: { make: () => 10n, expect: (m) => expect(m).toBe('10') },
  toStringThrows: {
    make: () => ({
      toString() {
        throw new Error('toString boom');
      },
      toJSON() {
        throw new Error('toJSON boom');
      },
    }),
    expect: (m) => expect(m).toBe('[object Object]'),
  },
  nul: { make: () => new Error('before\u0000after'), expect: (m) => expect(m).toBe('before\uFFFDafter') },
  loneSurrogate: { make: () => new Error('lone \ud800 high and \udc00 low'), expect: (m) => expect(m).toBe('lone \uFFFD high and \uFFFD low') },
  nulInStringThrown: { make: () => 'string\u0000thrown', expect: (m) => expect(m).toBe('string\uFFFDthrown') },
  causeChain: {
    make: () => new Error('outer', { cause: new Error('middle', { cause: 'root cause' }) }),
    expect: (m) => {
      expect(m).toContain('outer');
      expect(m).toContain('middle');
      expect(m).toContain('root cause');
    },
  },
  circularCause: {
    make: () => {
      const e = new Error('loops') as Error & { cause?: unknown };
      e.cause = e;
      return e;
    },
    expect: (m) => expect(m).toBe('loops'),
  },
  aggregate: {
    make: () => new AggregateError([new Error('first member'), 'second member'], 'several failed'),
    expect: (m) => {
      expect(m).toContain('several failed');
      expect(m).toContain('first member');
      expect(m).toContain('second member');
    },
  },
};

const caseNames = Object.keys(cases);

describe.each(['postgres', 'mysql', 'sqlite'] as const)('hostile: thrown values on %s', (db) => {
  let h: Harness | undefined;
  let available = true;
  const { escaped: rejections } = escapeTrap();
  const workers: Worker[] = [];

  beforeAll(async () => {
    available = await isReachable(db);
    if (available) h = await rawDriverHarness(db);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  /** Runs one job per case (one attempt each) plus a job that succeeds; resolves when all are recorded. */
  async function runAll(queue: string, options: WorkOptions, names: readonly string[]) {
    const hostile = defineJob<{ name: string }>('hostile_throw', {
      maxAttempts: 1,
      handler: async ({ name }) => {
        throw cases[name]!.make();
      },
    });
    const fine = defineJob<{ n: number }>('hostile_fine', { handler: async () => {} });
    const jobs = createJobs({ adapter: h!.adapter, table: h!.table, jobs: [hostile, fine] }) as Jobs<unknown>;
    const ids = await jobs.enqueueManyAutocommit(names.map((name) => hostile({ name })), { queue });
    const fineId = await jobs.enqueueAutocommit(fine({ n: 1 }), { queue });
    const worker = jobs.createWorker({ queues: [queue], pollIntervalMs: 20, concurrency: 4, ...options });
    workers.push(worker);
    let left = names.length + 1;
    const recorded = new Promise<void>((resolve) => {
      const done = (): void => {
        if (--left === 0) resolve();
      };
      worker.on('job:discarded', done);
      worker.on('job:completed', done);
    });
    await worker.start();
    await recorded;
    const rows = await h!.rows();
    return { byId: new Map(rows.map((r) => [r.id, r])), ids, fineId };
  }

  it('every thrown value is recorded with its description; the worker goes on; no unhandled rejection (logger: {})', async (ctx) => {
    if (!available) return ctx.skip();
    const { byId, ids, fineId } = await runAll('thrown', { logger: {} as never }, caseNames);
    expect(byId.get(fineId)?.state).toBe('completed');
    ids.forEach((id, i) => {
      const row = byId.get(id)!;
      const name = caseNames[i]!;
      expect({ name, state: row.state, entries: row.errors?.length }).toEqual({ name, state: 'discarded', entries: 1 });
      cases[name]!.expect(row.errors![0]!.message);
    });
    expect(rejections).toEqual([]);
  }, 60_000);

  it('a redact that throws withholds the text and the failure is still recorded', async (ctx) => {
    if (!available) return ctx.skip();
    const redact = (): string => {
      throw new Error('redact boom');
    };
    const { byId, ids } = await runAll('redact_throws', { logger: {} as never, redact }, ['causeChain', 'nul']);
    for (const id of ids) {
      const row = byId.get(id)!;
      expect(row.state).toBe('discarded');
      expect(row.errors?.[0]?.message).toMatch(/^\[withheld: the redact option threw/);
    }
    expect(rejections).toEqual([]);
  }, 60_000);

  it('a redact that returns unstorable text or a non-string is made safe', async (ctx) => {
    if (!available) return ctx.skip();
    let calls = 0;
    const redact = ((text: string) => (++calls % 2 === 0 ? (42 as unknown as string) : `${text}\u0000\ud800`)) as (text: string) => string;
    const { byId, ids } = await runAll('redact_odd', { logger: {} as never, redact }, ['causeChain', 'aggregate']);
    for (const id of ids) {
      const row = byId.get(id)!;
      expect(row.state).toBe('discarded');
      expect(row.errors?.[0]?.message).not.toContain('\u0000');
    }
    expect(rejections).toEqual([]);
  }, 60_000);
});
