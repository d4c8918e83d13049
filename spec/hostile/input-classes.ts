/**
 * Hostile input, by class, against one adapter × database: identifiers, strings, numbers and
 * dates at and past every boundary, JSON shapes, volume against server limits, and the options
 * of the public functions. Each `spec/hostile/<db>.spec.ts` runs it for a raw driver and an ORM.
 *
 * Every rejected case asserts the same invariants: the error is a typed ConcordiaError (with its
 * cause where one exists), the caller's transaction is still usable and commits its own writes,
 * none of our rows are left behind, and Object.prototype is untouched. Every accepted boundary
 * value must come back from the database exactly as given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob, silentLogger, type Jobs } from '../../lib/index.ts';
import { ConcordiaError, InvalidArgsError, InvalidIdentifierError, InvalidOptionError } from '../../lib/errors.ts';
import { listEnqueued } from '../../lib/testing/index.ts';
import { isReachable, type Db } from '../support/databases.ts';
import type { Harness } from '../support/harness.ts';

type Client = Jobs<unknown>;
type ErrorClass = abstract new (...args: never[]) => Error;

const job = defineJob('hostile_job', { handler: () => undefined });
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** The documented runAt range (README, "Limits"). */
const MIN_RUN_AT = new Date('1970-01-01T00:00:00.000Z');
const MAX_RUN_AT = new Date('9999-12-31T23:59:59.999Z');
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Objects nested `levels` deep, the outermost counting as one: `{a:{a:…{}}}`. */
function nested(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let v: unknown = leaf;
  for (let i = 1; i < levels; i++) v = i % 2 === 0 ? { a: v } : [v];
  return { a: v };
}

function dateOfYear(year: number): Date {
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(year);
  return d;
}

function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

/** A value whose every read throws: a Proxy over a plain object. */
function throwingProxy(): object {
  return new Proxy(
    {},
    {
      ownKeys: () => {
        throw new Error('ownKeys trap');
      },
      get: () => {
        throw new Error('get trap');
      },
    },
  );
}

/**
 * @param options.volume run the tests that move tens of MiB (packet limits); one adapter per
 * database is enough for them, and they are the slow part of the suite
 */
export function inputClassTests(label: string, db: Db, factory: () => Promise<Harness>, options: { volume?: boolean } = {}): void {
  const volume = options.volume ?? true;
  describe(`hostile input: ${label}`, () => {
    let h: Harness;
    let jobs: Client;
    let available = true;
    let order = 1;

    beforeAll(async () => {
      available = await isReachable(db);
      if (!available) return;
      h = await factory();
      jobs = createJobs({ adapter: h.adapter, table: h.table, jobs: [job] }) as Client;
    }, 30_000);

    afterAll(async () => {
      await h?.close();
    });

    const test = (name: string, fn: () => Promise<void>, timeout = 30_000) =>
      it(name, async (ctx) => {
        if (!available) return ctx.skip();
        await fn();
      }, timeout);

    async function rowCount(): Promise<number> {
      const [r] = await h.raw!.query(`SELECT COUNT(*) AS n FROM ${h.table}`, []);
      return Number(r?.['n']);
    }

    /**
     * Runs `call` inside a transaction that also writes two orders around it. Asserts the call
     * failed with `Expected` (a ConcordiaError), that the transaction still committed both
     * orders, and that no job row of ours was left.
     */
    async function expectRejected(call: (tx: unknown, client: Client) => Promise<unknown>, Expected: ErrorClass, client: Client = jobs): Promise<Error> {
      const before = await rowCount();
      const a = order++;
      const b = order++;
      let caught: unknown;
      await h.inTransaction(async (tx) => {
        await h.insertOrder(tx, a);
        try {
          await call(tx, client);
        } catch (error) {
          caught = error;
        }
        // Still usable: another write and a valid enqueue after the refusal, then the commit.
        await h.insertOrder(tx, b);
        await client.enqueue(tx, job({ after: a }), { queue: 'hostile_after' });
      });
      expect(caught, 'the call must fail').toBeInstanceOf(Expected);
      expect(caught).toBeInstanceOf(ConcordiaError);
      expect(await h.orderIds()).toEqual(expect.arrayContaining([a, b]));
      expect(await rowCount()).toBe(before + 1);
      expectPrototypeClean();
      return caught as Error;
    }

    /** Enqueues `args` with `options` and reads the row back. */
    async function stored(args: unknown, options: Record<string, unknown> = {}) {
      const id = await h.inTransaction((tx) => jobs.enqueue(tx, job(args as never, options)));
      const row = (await h.rows()).find((r) => r.id === id);
      expect(row).toBeDefined();
      expectPrototypeClean();
      return row!;
    }

    describe('identifiers', () => {
      const badNames = [
        "x'; DROP TABLE t; --",
        'a"b',
        'a`b',
        'a\\b',
        '\u0000',
        'a\u0000b',
        'a\nb',
        'a b',
        '',
        ' a',
        'é',
        '\ud800',
        '😀',
        'x'.repeat(129),
        '__proto__',
        '../etc',
      ];
      test('queue names outside the pattern are refused before SQL', async () => {
        for (const queue of badNames) await expectRejected((tx, c) => c.enqueue(tx, job({}, { queue })), InvalidIdentifierError);
        await expectRejected((tx, c) => c.enqueue(tx, job({}, { queue: 42 as never })), InvalidIdentifierError);
      });
      test('kind names outside the pattern are refused by defineJob', async () => {
        for (const kind of badNames) expect(() => defineJob(kind, { handler: () => undefined })).toThrow(InvalidIdentifierError);
      });
      test('table names outside the pattern are refused by createJobs', async () => {
        // "__proto__" is a valid SQL identifier, and a valid table name.
        for (const table of [...badNames.filter((n) => n !== '__proto__'), 'A', 'a.b.c', 'x'.repeat(64), 'public."x"', 'x;drop']) {
          expect(() => createJobs({ adapter: h.adapter, table })).toThrow(InvalidIdentifierError);
        }
      });
      test('names that are Object.prototype members work as ordinary names', async () => {
        for (const queue of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'x'.repeat(128), '0', 'a.b:c-d_e']) {
          const row = await stored({ q: queue }, { queue });
          expect(row.queue).toBe(queue);
        }
        const ctor = defineJob('constructor', { handler: () => undefined });
        const c = createJobs({ adapter: h.adapter, table: h.table, jobs: [ctor] }) as Client;
        const id = await h.inTransaction((tx) => c.enqueue(tx, ctor({})));
        expect((await h.rows()).find((r) => r.id === id)?.kind).toBe('constructor');
      });
      test('unique keys: NUL, lone surrogates, empty and over-long keys are refused; SQL and emoji are stored as given', async () => {
        for (const key of ['\u0000', 'a\u0000', 'a\ud800', '\udc00b', '', 'x'.repeat(256)]) {
          const e = await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: { key } }), InvalidOptionError);
          expect(e.message).toContain('unique.key');
        }
        for (const key of ["'; DROP TABLE x; --", '😀'.repeat(255), '__proto__', 'constructor', 'a\\b"c`d']) {
          const first = await h.inTransaction((tx) => jobs.enqueueUnique(tx, job({}), { unique: { key } }));
          const again = await h.inTransaction((tx) => jobs.enqueueUnique(tx, job({}), { unique: { key } }));
          expect(first.inserted).toBe(true);
          expect(again).toEqual({ inserted: false, id: first.id });
        }
        expectPrototypeClean();
      });
    });

    describe('strings', () => {
      const bad: [string, () => unknown, string][] = [
        ['NUL in a value', () => ({ s: 'a\u0000b' }), 'args.s'],
        ['lone high surrogate', () => ({ s: 'a\ud800' }), 'args.s'],
        ['lone low surrogate', () => ({ s: '\udc00b' }), 'args.s'],
        ['reversed pair', () => ({ s: '\udc00\ud800' }), 'args.s'],
        ['NUL deep in an array', () => ({ a: [{ b: ['ok', '\u0000'] }] }), 'args.a[0].b[1]'],
        ['NUL in a key', () => ({ ['k\u0000']: 1 }), 'args["k\\u0000"]'],
        ['lone surrogate in a key', () => ({ ['\ud800']: 1 }), 'args["\\ud800"]'],
      ];
      test('args with NUL or lone surrogates are refused with their path', async () => {
        for (const [, make, path] of bad) {
          const e = await expectRejected((tx, c) => c.enqueue(tx, job(make() as never)), InvalidArgsError);
          expect((e as InvalidArgsError).path).toBe(path);
        }
      });
      test('metadata with NUL or lone surrogates is refused with its path', async () => {
        for (const [, make, path] of bad) {
          const e = await expectRejected((tx, c) => c.enqueue(tx, job({}), { metadata: make() as never }), InvalidArgsError);
          expect((e as InvalidArgsError).path).toBe(path.replace(/^args/, 'metadata'));
        }
      });
      test('the same through enqueueMany, enqueueUnique and the autocommit calls', async () => {
        await expectRejected((tx, c) => c.enqueueMany(tx, [job({ ok: 1 }), job({ s: '\u0000' })]), InvalidArgsError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({ s: '\ud800' }), { unique: {} }), InvalidArgsError);
        const before = await rowCount();
        await expect(jobs.enqueueAutocommit(job({ s: '\u0000' }))).rejects.toBeInstanceOf(InvalidArgsError);
        await expect(jobs.enqueueManyAutocommit([job({}), job({}, { metadata: { s: '\udfff' } })])).rejects.toBeInstanceOf(InvalidArgsError);
        await expect(jobs.enqueueUniqueAutocommit(job({ s: 'x\u0000' }), { unique: {} })).rejects.toBeInstanceOf(InvalidArgsError);
        expect(await rowCount()).toBe(before);
      });
      test('odd but valid Unicode and SQL-looking text round-trip exactly', async () => {
        const args = {
          emoji: '😀👩‍👩‍👧‍👦',
          rtl: '\u202eabc',
          bom: '\ufeff',
          nonchar: '\uffff\ufffe',
          separators: '\u2028\u2029',
          combining: 'e\u0301',
          controls: '\u0001\u001f\u007f\u0085',
          quotes: `'"\`\\`,
          sql: "'); DROP TABLE x; --",
          escapes: '\\u0000 \\ud800',
          astral: '\u{10ffff}',
          [`k'"\\`]: 'key with quotes',
          constructor: 'c',
          ...JSON.parse('{"__proto__": {"polluted": true}}'),
        };
        const row = await stored(args, { metadata: { ...args } });
        expect(row.args).toEqual(args);
        expect(row.metadata).toEqual(args);
        expect(Object.hasOwn(row.args as object, '__proto__')).toBe(true);
      });
      test('a string just under maxArgsBytes is stored; one byte over is refused', async () => {
        const small = createJobs({ adapter: h.adapter, table: h.table, jobs: [job], maxArgsBytes: 100_000 }) as Client;
        const fill = (n: number) => ({ s: 'é'.repeat(n) }); // 2 bytes each, plus 8 bytes of {"s":""}
        const fits = fill((100_000 - 8) / 2);
        const id = await h.inTransaction((tx) => small.enqueue(tx, job(fits)));
        expect((await h.rows()).find((r) => r.id === id)?.args).toEqual(fits);
        await expectRejected((tx, c) => c.enqueue(tx, job({ s: 'é'.repeat((100_000 - 8) / 2) + 'x' })), InvalidArgsError, small);
        await expectRejected((tx, c) => c.enqueue(tx, job({}), { metadata: { s: 'x'.repeat(16 * 1024) } }), InvalidArgsError);
      });
    });

    describe('numbers and dates', () => {
      test('priority, maxAttempts and delayMs outside their ranges are refused', async () => {
        const cases: Record<string, unknown[]> = {
          priority: [-1001, 1001, 1.5, Number.NaN, Infinity, -Infinity, '1', 2 ** 53, 1n],
          maxAttempts: [0, -1, 1001, 1.5, Number.NaN, Infinity, '3'],
          delayMs: [-1, 100 * YEAR_MS + 1, 1.5, Number.NaN, Infinity, '10', Number.MAX_SAFE_INTEGER + 2],
        };
        for (const [option, values] of Object.entries(cases)) {
          for (const value of values) await expectRejected((tx, c) => c.enqueue(tx, job({}, { [option]: value })), InvalidOptionError);
        }
      });
      test('runAt outside 1970..9999, invalid or not a Date is refused', async () => {
        const runAts = [
          dateOfYear(10000),
          dateOfYear(0),
          dateOfYear(-1),
          new Date(MAX_RUN_AT.getTime() + 1),
          new Date(MIN_RUN_AT.getTime() - 1),
          new Date(Number.NaN),
          new Date(8.64e15),
          '2030-01-01',
          0,
          { getTime: () => 0 },
        ];
        for (const runAt of runAts) await expectRejected((tx, c) => c.enqueue(tx, job({}, { runAt: runAt as Date })), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueMany(tx, [job({}), job({}, { runAt: dateOfYear(10000) })]), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { runAt: dateOfYear(0), unique: {} }), InvalidOptionError);
      });
      test('every boundary value inside the ranges is stored exactly', async () => {
        for (const priority of [-1000, 1000]) expect((await stored({}, { priority })).priority).toBe(priority);
        for (const maxAttempts of [1, 1000]) expect((await stored({}, { maxAttempts })).maxAttempts).toBe(maxAttempts);
        for (const runAt of [MIN_RUN_AT, MAX_RUN_AT, new Date('2038-01-19T03:14:08.000Z')]) {
          expect((await stored({}, { runAt })).runAtMs).toBe(runAt.getTime());
        }
        const far = await stored({}, { delayMs: 100 * YEAR_MS });
        expect(far.runAtMs).toBeGreaterThan(Date.now() + 99 * YEAR_MS);
        const numbers = { max: Number.MAX_VALUE, negMax: -Number.MAX_VALUE, safe: Number.MAX_SAFE_INTEGER, unsafeNeg: -Number.MAX_SAFE_INTEGER, tiny: 1e-300, fraction: 0.1, zero: 0 };
        expect((await stored(numbers)).args).toEqual(numbers);
      });
    });

    describe('JSON shapes', () => {
      test('nesting: 31 levels are stored, 32 are refused, in args and metadata', async () => {
        const deepest = nested(31);
        expect((await stored(deepest, { metadata: nested(31) })).args).toEqual(deepest);
        const e = await expectRejected((tx, c) => c.enqueue(tx, job(nested(32) as never)), InvalidArgsError);
        expect(e.message).toContain('31 levels');
        await expectRejected((tx, c) => c.enqueue(tx, job({}), { metadata: nested(32) as never }), InvalidArgsError);
        await expectRejected((tx, c) => c.enqueue(tx, job(nested(100_000) as never)), InvalidArgsError);
      });
      test('values JSON would drop or mangle are refused with their path', async () => {
        class Money {
          amount = 1;
        }
        const circular: Record<string, unknown> = {};
        circular['self'] = circular;
        const loop: unknown[] = [];
        loop.push(loop);
        const extra = Object.assign([1, 2], { note: 'dropped by JSON' });
        const withToJson = { toJSON: () => 'x' };
        let getterCalls = 0;
        const getter = {
          get boom() {
            getterCalls++;
            throw new Error('getter');
          },
        };
        const cases: [string, unknown, ErrorClass][] = [
          // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
          ['sparse array', { a: [1, , 3] }, InvalidArgsError],
          ['array of holes', { a: new Array(3) }, InvalidArgsError],
          ['array with a property', { a: extra }, InvalidArgsError],
          ['Map', { m: new Map([[1, 2]]) }, InvalidArgsError],
          ['Set', { s: new Set([1]) }, InvalidArgsError],
          ['Date', { d: new Date() }, InvalidArgsError],
          ['class instance', { m: new Money() }, InvalidArgsError],
          ['BigInt', { n: 1n }, InvalidArgsError],
          ['function', { f: () => 1 }, InvalidArgsError],
          ['symbol', { s: Symbol('x') }, InvalidArgsError],
          ['undefined in an array', { a: [undefined] }, InvalidArgsError],
          ['NaN', { n: Number.NaN }, InvalidArgsError],
          ['-Infinity', { n: -Infinity }, InvalidArgsError],
          ['circular object', circular, InvalidArgsError],
          ['circular array', { loop }, InvalidArgsError],
          ['toJSON', { t: withToJson }, InvalidArgsError],
          ['boxed string', { s: new String('x') }, InvalidArgsError],
          ['typed array', { b: new Uint8Array(2) }, InvalidArgsError],
          ['Buffer', { b: Buffer.from('x') }, InvalidArgsError],
          ['throwing getter', getter, InvalidArgsError],
          ['throwing Proxy', { p: throwingProxy() }, InvalidArgsError],
          ['args null', null, InvalidArgsError],
          ['args array', [1], InvalidArgsError],
          ['args string', 'x', InvalidArgsError],
          ['args Map', new Map(), InvalidArgsError],
          ['args Proxy', throwingProxy(), ConcordiaError],
        ];
        for (const [name, args, Expected] of cases) {
          const e = await expectRejected((tx, c) => c.enqueue(tx, job(args as never)), Expected);
          expect(e, name).toBeInstanceOf(ConcordiaError);
          if (name.includes('throwing') || name === 'args Proxy') expect(e.cause, name).toBeInstanceOf(Error);
        }
        expect(getterCalls).toBeGreaterThan(0);
      });
      test('metadata that is not a plain object is refused (never coerced)', async () => {
        for (const metadata of ['tenant', ['a'], new Map([['a', 1]]), null, 1, new Date(), Object.assign(Object.create({ inherited: 1 }), { a: 1 })]) {
          await expectRejected((tx, c) => c.enqueue(tx, job({}), { metadata: metadata as never }), InvalidArgsError);
        }
      });
      test('a null-prototype object is plain JSON and is stored', async () => {
        const args = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [Object.assign(Object.create(null), { c: 'd' })] });
        expect((await stored(args)).args).toEqual({ a: 1, b: [{ c: 'd' }] });
      });
    });

    describe('volume', () => {
      test('an enqueueMany whose last job is bad leaves nothing behind, across several statements', async () => {
        const many = Array.from({ length: 2500 }, (_, i) => job({ i }));
        await expectRejected((tx, c) => c.enqueueMany(tx, [...many, job({ s: '\u0000' })]), InvalidArgsError);
        await expectRejected((tx, c) => c.enqueueMany(tx, [...many, job({}, { runAt: dateOfYear(10000) })]), InvalidOptionError);
        const e = await expectRejected((tx, c) => c.enqueueMany(tx, [...many, job(nested(40) as never)]), InvalidArgsError);
        expect((e as InvalidArgsError).path).toMatch(/^jobs\[2500\]\.args/);
      });
      test('5,000 jobs in one call: several statements, below every placeholder limit', async () => {
        const before = await rowCount();
        const ids = await h.inTransaction((tx) => jobs.enqueueMany(tx, Array.from({ length: 5000 }, (_, i) => job({ i }, { queue: 'hostile_bulk' }))));
        expect(new Set(ids).size).toBe(5000);
        expect(await rowCount()).toBe(before + 5000);
        await h.raw!.execute(`DELETE FROM ${h.table} WHERE queue = 'hostile_bulk'`, []);
      }, 60_000);
      const volumeTest = volume ? test : it.skip;
      volumeTest('jobs each under maxArgsBytes but together over the packet limit go in several statements', async () => {
        const big = createJobs({ adapter: h.adapter, table: h.table, jobs: [job], maxArgsBytes: 2 * 1024 * 1024 }) as Client;
        const before = await rowCount();
        const payload = 'x'.repeat(1024 * 1024);
        const a = order++;
        await h.inTransaction(async (tx) => {
          await h.insertOrder(tx, a);
          await big.enqueueMany(tx, Array.from({ length: 20 }, (_, i) => job({ i, payload }, { queue: 'hostile_big' })));
        });
        expect(await h.orderIds()).toContain(a);
        expect(await rowCount()).toBe(before + 20);
        await h.raw!.execute(`DELETE FROM ${h.table} WHERE queue = 'hostile_big'`, []);
      }, 120_000);
      volumeTest('one job larger than a statement may be is refused before sending (MariaDB: half of max_allowed_packet)', async () => {
        const huge = createJobs({ adapter: h.adapter, table: h.table, jobs: [job], maxArgsBytes: 64 * 1024 * 1024 }) as Client;
        const args = { s: 'x'.repeat(10 * 1024 * 1024) };
        if (db === 'mysql') {
          const e = await expectRejected((tx, c) => c.enqueue(tx, job(args)), InvalidArgsError, huge);
          expect(e.message).toContain('max_allowed_packet');
          await expectRejected((tx, c) => c.enqueueMany(tx, [job({}), job(args)]), InvalidArgsError, huge);
          await expectRejected((tx, c) => c.enqueueUnique(tx, job(args), { unique: {} }), InvalidArgsError, huge);
        } else {
          const id = await h.inTransaction((tx) => huge.enqueue(tx, job(args), { queue: 'hostile_huge' }));
          expect(id).toMatch(/^\d+$/);
          await h.raw!.execute(`DELETE FROM ${h.table} WHERE queue = 'hostile_huge'`, []);
        }
        // Beyond every database's budget: refused everywhere, before anything is sent.
        await expectRejected((tx, c) => c.enqueue(tx, job({ s: 'x'.repeat(20 * 1024 * 1024) })), InvalidArgsError, huge);
      }, 120_000);
    });

    describe('options of the public functions', () => {
      const polluting = () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as Record<string, unknown>;
      test('createJobs refuses bad options with typed errors', async () => {
        const bad: unknown[] = [
          undefined,
          null,
          {},
          { adapter: h.adapter, table: 'bad name' },
          { adapter: h.adapter, defaultQueue: '' },
          { adapter: h.adapter, maxAttempts: 0 },
          { adapter: h.adapter, maxArgsBytes: 1 },
          { adapter: h.adapter, maxArgsBytes: 2 ** 40 },
          { adapter: h.adapter, jobs: 'nope' },
          { adapter: h.adapter, jobs: [{}] },
          { adapter: h.adapter, jobs: [job, job] },
          { adapter: h.adapter, onEnqueue: 'nope' },
          { adapter: h.adapter, onEnqueue: [1] },
        ];
        for (const options of bad) expect(() => createJobs(options as never), JSON.stringify(options)).toThrow(ConcordiaError);
        const c = createJobs({ ...polluting(), adapter: h.adapter, table: h.table } as never);
        expect(c.table).toBe(h.table);
        expectPrototypeClean();
      });
      test('enqueue options and requests with __proto__ and constructor keys pollute nothing', async () => {
        const row = await stored(polluting(), { ...polluting(), queue: 'hostile_proto' });
        expect(row.queue).toBe('hostile_proto');
        expect(row.args).toEqual(polluting());
        await expectRejected((tx, c) => c.enqueue(tx, { kind: 'hostile_job', args: {}, options: {} } as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueue(tx, null as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueMany(tx, 'x' as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueue(tx, job({}, { runAt: new Date(), delayMs: 1 })), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: 'x' } as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: { states: ['nope'] } } as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: { states: ['__proto__'] } } as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: { periodMs: 0 } }), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: { by: { args: 'x' } } } as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueue(tx, job({}), throwingProxy() as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), throwingProxy() as never), InvalidOptionError);
        await expectRejected((tx, c) => c.enqueueUnique(tx, job({}), { unique: throwingProxy() } as never), InvalidOptionError);
      });
      test('defineJob refuses bad configs with typed errors', async () => {
        const configs: unknown[] = [undefined, {}, { handler: 'x' }, { handler: () => 1, parse: 'x' }, { handler: () => 1, priority: 1001 }, { handler: () => 1, maxAttempts: 0 }, { handler: () => 1, queue: 'a b' }, { handler: () => 1, timeoutMs: 0 }];
        for (const config of configs) expect(() => defineJob('x', config as never), JSON.stringify(config)).toThrow(ConcordiaError);
        expect(defineJob('x', { ...polluting(), handler: () => 1 } as never).defaults).toEqual({});
        expectPrototypeClean();
      });
      test('work refuses bad options with typed errors', async () => {
        const bad: unknown[] = [
          null,
          { queues: 'default' },
          { queues: [] },
          { queues: ['a b'] },
          { concurrency: 0 },
          { concurrency: 1.5 },
          { pollIntervalMs: 0 },
          { leaseMs: 99 },
          { heartbeatMs: 30_000, leaseMs: 30_000 },
          { middleware: 'x' },
          { middleware: [1] },
          { retryPolicy: 'x' },
          { retryPolicy: { delayMs: 1 } },
          { redact: 1 },
          { queueConcurrency: 'x' },
          { queueConcurrency: { 'a b': 1 } },
          { queueConcurrency: { default: 0 } },
          { retention: { completedMs: -1 } },
          { workerId: '' },
          { workerId: 'a\u0000' },
          { pauseCheckMs: -1 },
        ];
        for (const options of bad) expect(() => jobs.createWorker(options as never), JSON.stringify(options)).toThrow(ConcordiaError);
        const w = jobs.createWorker({ ...polluting(), logger: silentLogger } as never);
        expect(w.state).toBe('new');
        expectPrototypeClean();
      });
      test('listEnqueued refuses bad filters without touching the transaction', async () => {
        for (const filter of [{ queue: 'a\u0000' }, { kind: "x'--" }, { state: 'nope' }, { state: '__proto__' }, { limit: Number.NaN }, { limit: 0 }, { limit: 1.5 }]) {
          await expectRejected((tx, c) => listEnqueued(c, { tx, ...filter } as never), ConcordiaError);
        }
      });
    });
  });
}
