/**
 * The database's own limit for this table shape: a hand-written loop with no framework around
 * it. Each lane claims a batch with one SKIP LOCKED UPDATE … RETURNING, "runs" the no-op jobs
 * (parses their args), and completes the whole batch with one UPDATE. Same table, same index,
 * same states as Concordia, but no lease fence, no events, no per-job bookkeeping.
 *
 * `finish: 'delete'` completes a batch by deleting its rows instead of marking them completed, as
 * a queue that keeps no history does (graphile-worker deletes a job when it succeeds). On this
 * schema the update changes `state`, a column of every index but the primary key and the unique
 * key, so it writes a new row version and an entry in each of the four indexes; a delete only
 * marks the row version dead. Comparing the two loops prices keeping completed rows.
 */
import pg from 'pg';
import { jobsDdl, Meter, PG_URL, PgWork, rateResult, type CaseResult, type CaseSpec } from '../lib/common.ts';

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const lanes = Number(spec.opts['lanes'] ?? 4);
  const batch = Number(spec.opts['batch'] ?? 100);
  const deleting = spec.opts['finish'] === 'delete';
  const pool = new pg.Pool({ connectionString: PG_URL, max: lanes + 1 });
  try {
    for (const stmt of jobsDdl('postgres', table)) await pool.query(stmt);
    // Pre-insert with one set-returning INSERT: not measured.
    await pool.query(
      `INSERT INTO ${table} (queue, kind, args, run_at, created_at) ` +
        `SELECT 'default', 'noop', jsonb_build_object('i', g), now(), now() FROM generate_series(1, $1) g`,
      [spec.n],
    );
    const claim =
      `WITH picked AS MATERIALIZED (SELECT id FROM ${table} WHERE state = 'available' AND queue = 'default' AND run_at <= now() ` +
      `ORDER BY priority, run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) ` +
      `UPDATE ${table} t SET state = 'running', attempt = attempt + 1, attempted_at = now(), lease_token = gen_random_uuid()::text, ` +
      `locked_by = $2, lease_expires_at = now() + interval '30 seconds' FROM picked WHERE t.id = picked.id RETURNING t.id, t.args::text AS args`;
    // The state test is written `(state = 'running') IS TRUE`, as the engine writes its fence:
    // plain `state = 'running'` lets the planner probe the (state, id) index, whose `running` range
    // holds a dead entry for every job claimed since the last VACUUM (bench/wal-breakdown.ts
    // measured that form at about 2.5× the server CPU per completed job, 5× for the DELETE).
    const running = "(state = 'running') IS TRUE";
    const complete = deleting
      ? `DELETE FROM ${table} WHERE id = ANY($1::bigint[]) AND ${running}`
      : `UPDATE ${table} SET state = 'completed', finalized_at = now(), lease_expires_at = NULL WHERE id = ANY($1::bigint[]) AND ${running}`;
    let done = 0;
    const work = new PgWork();
    await work.start();
    const meter = new Meter();
    meter.start();
    const lane = async (name: string): Promise<void> => {
      for (;;) {
        const { rows } = await pool.query<{ id: string; args: string }>(claim, [batch, name]);
        if (rows.length === 0) return;
        for (const r of rows) JSON.parse(r.args);
        const res = await pool.query(complete, [rows.map((r) => r.id)]);
        done += res.rowCount ?? 0;
      }
    };
    await Promise.all(Array.from({ length: lanes }, (_, i) => lane(`raw-${i}`)));
    const m = meter.stop();
    const cost = await work.stop(done);
    const { rows } = await pool.query<{ c: string }>(
      deleting ? `SELECT $1::int - COUNT(*) AS c FROM ${table}` : `SELECT COUNT(*) AS c FROM ${table} WHERE state = 'completed'`,
      deleting ? [spec.n] : [],
    );
    const confirmed = Number(rows[0]?.c ?? 0);
    if (confirmed !== done) throw new Error(`raw-pg: counted ${done}, database has ${confirmed}`);
    return rateResult(spec.n, confirmed, m, cost);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await pool.end();
  }
}
