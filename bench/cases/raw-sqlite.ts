/**
 * The database's own limit for this table on SQLite: a hand-written loop through better-sqlite3,
 * the SQLite counterpart of raw-pg.ts.
 *
 * SQLite has one writer at a time, so there are no lanes: one connection claims a batch with a
 * single UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING (one statement is one write
 * transaction, as in SqliteDialect), "runs" the no-op jobs (parses their args) and completes the
 * batch with one UPDATE. The file is opened the way the Concordia SQLite cases open it (WAL, busy
 * timeout, synchronous=FULL), so both pay the same fsync per commit. Same table, indexes, states
 * and epoch-millisecond times; no lease fence, events or per-job bookkeeping.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jobsDdl, Meter, rateResult, sqliteDir, type CaseResult, type CaseSpec } from '../lib/common.ts';

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const batch = Number(spec.opts['batch'] ?? 100);
  const dir = sqliteDir(spec.tag);
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'bench.db'), { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    // FULL is what a fresh connection has anyway; set it so a build whose WAL default is NORMAL
    // cannot make the raw loop cheaper per commit than Concordia's cases.
    db.pragma('synchronous = FULL');
    if (Number(db.pragma('synchronous', { simple: true })) !== 2) throw new Error('raw-sqlite: synchronous is not FULL');
    for (const stmt of jobsDdl('sqlite', table)) db.exec(stmt);
    // Pre-insert in one transaction with a recursive counter: not measured.
    db.prepare(
      `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) ` +
        `INSERT INTO ${table} (queue, kind, args, run_at, created_at) SELECT 'default', 'noop', json_object('i', i), ?, ? FROM g`,
    ).run(spec.n, Date.now(), Date.now());
    const claim = db.prepare<[number, string, number, number, number], { id: number; args: string }>(
      `UPDATE ${table} SET state = 'running', attempt = attempt + 1, attempted_at = ?, lease_token = lower(hex(randomblob(16))), ` +
        `locked_by = ?, lease_expires_at = ? WHERE id IN (SELECT id FROM ${table} WHERE state = 'available' AND queue = 'default' ` +
        `AND run_at <= ? ORDER BY priority, run_at, id LIMIT ?) RETURNING id, args`,
    );
    // One prepared completion per batch size (the full batch and the last, shorter one).
    const completes = new Map<number, Database.Statement<unknown[]>>();
    const completeFor = (size: number): Database.Statement<unknown[]> => {
      let st = completes.get(size);
      if (!st) {
        st = db.prepare(
          `UPDATE ${table} SET state = 'completed', finalized_at = ?, lease_expires_at = NULL ` +
            `WHERE id IN (${Array.from({ length: size }, () => '?').join(', ')}) AND state = 'running'`,
        );
        completes.set(size, st);
      }
      return st;
    };
    let done = 0;
    const meter = new Meter();
    meter.start();
    for (;;) {
      const now = Date.now();
      const rows = claim.all(now, 'raw-0', now + 30_000, now, batch);
      if (rows.length === 0) break;
      for (const r of rows) JSON.parse(r.args);
      done += completeFor(rows.length).run(Date.now(), ...rows.map((r) => r.id)).changes;
    }
    const m = meter.stop();
    const confirmed = Number((db.prepare(`SELECT COUNT(*) AS c FROM ${table} WHERE state = 'completed'`).get() as { c: number }).c);
    if (confirmed !== done || confirmed !== spec.n) throw new Error(`raw-sqlite: counted ${done}, database has ${confirmed} of ${spec.n}`);
    return rateResult(spec.n, confirmed, m);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
