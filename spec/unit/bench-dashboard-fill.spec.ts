/**
 * The dashboard-reads benchmark's pieces that its numbers rest on: the fill writes the history
 * it claims (row count, state, queue and kind mix, ids growing with time, times in range), and
 * the plan summary names the index a plan reads with. Run on SQLite in memory, with the real
 * schema; the same expressions run on PostgreSQL and MariaDB in `npm run bench:quick`.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { betterSqlite3Adapter } from '../../adapters/better-sqlite3/better-sqlite3-adapter.ts';
import { jobsDdl } from '../../bench/lib/common.ts';
import { fillHistory, RARE_KIND } from '../../bench/lib/dashboard-fill.ts';
import { accessPath } from '../../bench/lib/explain.ts';
import type { Executor } from '../../lib/index.ts';

const NOW = Date.UTC(2026, 0, 8);
const DAY = 86_400_000;

describe('dashboard-reads fill', () => {
  let db: Database.Database;
  let ex: Executor;
  beforeEach(async () => {
    db = new Database(':memory:');
    ex = betterSqlite3Adapter(db).autocommit();
    for (const stmt of jobsDdl('sqlite', 'jobs')) await ex.execute(stmt, []);
    await fillHistory(ex, 'sqlite', 'jobs', { finished: 200_000, available: 300, running: 20, spanDays: 7, nowMs: NOW });
  });
  afterEach(() => db.close());

  const rows = (sql: string) => db.prepare(sql).all() as Record<string, number | string | null>[];

  it('writes the finished history and the live jobs', () => {
    const byState = Object.fromEntries(rows('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').map((r) => [r['state'], r['n']]));
    expect(byState['available']).toBe(300);
    expect(byState['running']).toBe(20);
    const finished = Number(byState['completed']) + Number(byState['discarded']) + Number(byState['cancelled']);
    expect(finished).toBe(200_000);
    // 90 / 7 / 3 %, within a percent.
    expect(Number(byState['completed']) / finished).toBeCloseTo(0.9, 1);
    expect(Number(byState['discarded']) / finished).toBeGreaterThan(0.06);
    expect(Number(byState['discarded']) / finished).toBeLessThan(0.08);
    expect(Number(byState['cancelled']) / finished).toBeGreaterThan(0.02);
    expect(Number(byState['cancelled']) / finished).toBeLessThan(0.04);
  });

  it('spreads queues and kinds, with the rare kind at about 1 in 10,000', () => {
    expect(rows('SELECT DISTINCT queue FROM jobs ORDER BY queue').map((r) => r['queue'])).toEqual(['billing', 'default', 'email', 'reports', 'webhooks']);
    expect(rows('SELECT COUNT(DISTINCT kind) AS n FROM jobs')[0]!['n']).toBe(8);
    const rare = Number(rows(`SELECT COUNT(*) AS n FROM jobs WHERE kind = '${RARE_KIND}' AND finalized_at IS NOT NULL`)[0]!['n']);
    expect(rare).toBeGreaterThanOrEqual(10);
    expect(rare).toBeLessThanOrEqual(30);
  });

  it('finishes newer ids later, within the span, each after it started', () => {
    const [r] = rows('SELECT MIN(finalized_at) AS lo, MAX(finalized_at) AS hi FROM jobs');
    expect(Number(r!['hi'])).toBe(NOW);
    expect(Number(r!['lo'])).toBeGreaterThanOrEqual(NOW - 7 * DAY);
    expect(Number(r!['lo'])).toBeLessThan(NOW - 6 * DAY);
    expect(rows('SELECT COUNT(*) AS n FROM jobs a JOIN jobs b ON b.id = a.id + 1 WHERE a.finalized_at > b.finalized_at')[0]!['n']).toBe(0);
    expect(rows('SELECT COUNT(*) AS n FROM jobs WHERE finalized_at IS NOT NULL AND NOT (created_at <= attempted_at AND attempted_at < finalized_at)')[0]!['n']).toBe(0);
    // Discarded jobs carry an error the detail view parses.
    expect(rows("SELECT COUNT(*) AS n FROM jobs WHERE state = 'discarded' AND json_extract(errors, '$[0].message') IS NULL")[0]!['n']).toBe(0);
  });
});

describe('dashboard-reads plan summary', () => {
  it('names the index that finds the rows, not the fetch of the page by id', () => {
    expect(accessPath('SEARCH j USING COVERING INDEX concordia_jobs_lease_idx (state=?) ×2; USE TEMP B-TREE FOR ORDER BY ×2; SEARCH j USING INTEGER PRIMARY KEY (rowid=?)')).toBe('lease_idx + sort');
    expect(accessPath('eq_ref PRIMARY (~1 rows); ref concordia_jobs_claim_idx (~2701 rows, Using filesort, Using index) ×2')).toBe('claim_idx + sort');
    expect(accessPath('SEARCH j USING INTEGER PRIMARY KEY (rowid=?)')).toBe('primary key');
    expect(accessPath('Index Only Scan on concordia_jobs_state_id_idx (50 rows) ×2; Index Scan on concordia_jobs_pkey (50 rows, by id) — buffers hit 208 read 0, 0.2 ms')).toBe('state_id_idx');
  });

  it('tells full scans and primary-key walks apart on each database', () => {
    expect(accessPath('throughput: Seq Scan on concordia_jobs (142839 rows) — buffers hit 1 read 2, 9.0 ms')).toBe('full table scan');
    expect(accessPath('throughput: ALL no index (~994094 rows, Using filesort, Using temporary)')).toBe('full table scan + sort');
    expect(accessPath('Index Scan on concordia_jobs_pkey (50 rows) ×3 — buffers hit 210 read 0, 0.2 ms')).toBe('primary key');
    expect(accessPath('SCAN j ×2; SEARCH j USING INTEGER PRIMARY KEY (rowid=?)')).toBe('primary key');
    expect(accessPath('Index Only Scan on concordia_jobs_state_id_idx (10001 rows)')).toBe('state_id_idx');
  });
});
