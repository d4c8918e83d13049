/**
 * Statement-level checks that need no database: every dialect's SQL binds exactly its
 * parameters, never contains a literal `?` of its own (MikroORM and Knex would substitute it),
 * and inlines nothing but validated identifiers and integers.
 */
import { describe, expect, it } from 'vitest';
import { toDollarPlaceholders } from '../../lib/sql/executor.ts';
import { PostgresDialect } from '../../lib/dialects/postgres-dialect.ts';
import { MysqlDialect } from '../../lib/dialects/mysql-dialect.ts';
import { SqliteDialect } from '../../lib/dialects/sqlite-dialect.ts';
import type { DispatcherDb } from '../../lib/dialects/dialect.ts';
import type { Executor, SqlParam, SqlRow } from '../../lib/sql/executor.ts';

/** An executor that records statements instead of running them. */
function recorder(dialect: 'postgres' | 'mysql' | 'sqlite') {
  const seen: { sql: string; params: readonly SqlParam[] }[] = [];
  const ex: Executor = {
    dialect,
    query: async (sql, params) => {
      seen.push({ sql, params });
      return [{ id: '1', args: '{}', metadata: null, attempt: 1, max_attempts: 1, priority: 0, run_at_ms: 0, created_at_ms: 0, lease_token: 't', c: 'x', v: '99' }] as SqlRow[];
    },
    execute: async (sql, params) => {
      seen.push({ sql, params });
      return 1;
    },
  };
  const db: DispatcherDb = { autocommit: ex, transaction: (fn) => fn(ex) };
  return { seen, ex, db };
}

const dialects = [
  ['postgres', new PostgresDialect('concordia_jobs')],
  ['mysql', new MysqlDialect('concordia_jobs')],
  ['sqlite', new SqliteDialect('concordia_jobs')],
] as const;

describe.each(dialects)('%s statements', (name, dialect) => {
  for (const now of [null, new Date(Date.UTC(2030, 0, 1))]) {
    it(`bind exactly their parameters (now = ${now ? 'bound' : 'database'})`, async () => {
      const { seen, ex, db } = recorder(name);
      const hostile = "x'); DROP TABLE concordia_jobs; --";
      await dialect.insert(ex, [{ queue: hostile, kind: 'k', argsJson: '{"a":"?"}', priority: 0, maxAttempts: 3, runAt: null, delayMs: 5, metadataJson: null }], now);
      await dialect.claim(db, { queues: ['a', hostile], limit: 7, workerId: 'w', leaseMs: 1000, now });
      // One queue takes another shape (its pause check binds the queue a second time).
      await dialect.claim(db, { queues: [hostile], limit: 7, workerId: 'w', leaseMs: 1000, now });
      await dialect.complete(db, [{ id: '1', token: 't' }], now);
      await dialect.fail(db, { id: '1', token: 't', to: 'available', delayMs: 10, errorJson: '{}', now });
      await dialect.fail(db, { id: '1', token: 't', to: 'discarded', delayMs: 0, errorJson: '{}', now });
      await dialect.release(db, [{ id: '1', token: 't' }], now);
      await dialect.extendLeases(db, [{ id: '1', token: 't' }], 1000, now);
      await dialect.rescue(db, '{}', 100, now);
      await dialect.cancel(ex, '1', now);
      expect(seen.length).toBeGreaterThan(8);
      for (const { sql, params } of seen) {
        expect(sql.split('?').length - 1, sql).toBe(params.length);
        expect(sql).not.toContain(hostile);
        expect(sql).not.toContain('DROP');
      }
    });
  }
});

describe.each(dialects)('%s dashboard statements', (name, dialect) => {
  it('bind every filter value, path segment and id, and inline only checked constants', async () => {
    const { seen, ex, db } = recorder(name);
    const hostile = "x'); DROP TABLE concordia_jobs; -- \" $.a[0] ?";
    const filter = {
      states: ['discarded', 'cancelled'] as const,
      kinds: ['k1', 'k2'],
      queues: ['q1'],
      createdFrom: 1_000,
      createdTo: 2_000,
      args: [
        { path: ['user', 'id'], value: hostile },
        { path: ['items', '0', 'sku'], value: 7.5 },
        { path: ['flag'], value: true },
      ],
      metadata: [{ path: ['tenant'], value: null }],
    };
    for (const now of [null, new Date(Date.UTC(2030, 0, 1))]) {
      await dialect.searchJobs(ex, { filter: { ...filter, states: [...filter.states] }, cursor: '9007199254740993', limit: 7, scanLimit: 70 });
      await dialect.searchJobs(ex, { filter: { kinds: ['k1'] } });
      await dialect.countMatching(ex, { ...filter, states: [...filter.states] }, { max: 5 });
      await dialect.jobDetail(ex, '42');
      await dialect.overviewCounts(ex, { exactUpTo: 3 });
      await dialect.throughput(ex, { sinceMs: 0, untilMs: 3_600_000, bucketMs: 60_000 });
      await dialect.runningJobs(ex, 9);
      for (const action of ['retry', 'cancel', 'discard', 'delete', 'runNow'] as const) {
        await dialect.applyAction(db, action, { ids: ['1', '2'] }, now);
        await dialect.applyAction(db, action, { filter: { ...filter, states: ['available', 'completed'] }, max: 3 }, now);
      }
    }
    expect(seen.length).toBeGreaterThan(20);
    for (const { sql, params } of seen) {
      expect(sql.split('?').length - 1, sql).toBe(params.length);
      expect(sql).not.toContain('DROP');
      expect(sql).not.toContain('k1');
      expect(sql).not.toContain('q1');
      expect(sql).not.toContain('tenant');
      expect(sql).not.toContain('9007199254740993');
    }
    // The hostile value and the path segments went in as parameters.
    const bound = seen.flatMap((x) => x.params);
    expect(bound.some((p) => typeof p === 'string' && p.includes("DROP TABLE"))).toBe(true);
    expect(bound).toEqual(expect.arrayContaining(['9007199254740993', 'k1', 'q1']));
  });
});

describe('toDollarPlaceholders', () => {
  it('numbers placeholders in order', () => {
    expect(toDollarPlaceholders('a = ? AND b IN (?, ?)')).toBe('a = $1 AND b IN ($2, $3)');
  });
});

describe('MariaDB dashboard lists', () => {
  /** An executor whose information_schema holds `index` (or none); pages fail while `failHint` names an index. */
  function schemaOf(index: () => string | null, failHint = () => false) {
    const pages: string[] = [];
    let lookUps = 0;
    const ex: Executor = {
      dialect: 'mysql',
      query: async (sql) => {
        if (sql.includes('information_schema.statistics')) {
          lookUps++;
          const name = index();
          return name === null ? [] : [{ i: name }];
        }
        pages.push(sql);
        if (failHint() && sql.includes('FORCE INDEX')) throw new Error("Key 'gone' doesn't exist in table 'j'");
        return [{ w_lo: null, w_n: 0, id: null }];
      },
      execute: async () => 0,
    };
    return { ex, pages, lookUps: () => lookUps };
  }

  it('name the (state, id) index in a hint on one-state walks, looked up once, and only when the table has it', async () => {
    const dialect = new MysqlDialect('concordia_jobs');
    const s = schemaOf(() => 'jobs_state_id');
    await dialect.searchJobs(s.ex, { filter: { states: ['completed'] }, cursor: '500' });
    await dialect.searchJobs(s.ex, { filter: { states: ['completed', 'discarded'], kinds: ['k'] } });
    await dialect.searchJobs(s.ex, { filter: {} });
    expect(s.lookUps()).toBe(1);
    expect(s.pages[0]!.match(/FORCE INDEX \(`jobs_state_id`\)/g)).toHaveLength(2); // the window and its bound
    expect(s.pages[1]!.match(/FORCE INDEX \(`jobs_state_id`\)/g)).toHaveLength(4); // two states, each twice
    expect(s.pages[2]).not.toContain('FORCE INDEX'); // every state: the primary key

    const without = schemaOf(() => null);
    await new MysqlDialect('concordia_jobs').searchJobs(without.ex, { filter: { states: ['completed'] }, cursor: '500' });
    expect(without.pages[0]).not.toContain('FORCE INDEX');
  });

  it('look again once when the hinted index has gone, and answer without it', async () => {
    const dialect = new MysqlDialect('concordia_jobs');
    let index: string | null = 'gone';
    const s = schemaOf(() => index, () => true);
    await dialect.searchJobs(s.ex, { filter: { states: ['completed'] } }).catch(() => {});
    index = null;
    await expect(dialect.searchJobs(s.ex, { filter: { states: ['completed'] } })).resolves.toEqual({ jobs: [], next: null });
    expect(s.pages.at(-1)).not.toContain('FORCE INDEX');
  });
});
