/**
 * The database's own limit for this table on MariaDB: a hand-written loop through mysql2 with no
 * framework around it, the MariaDB counterpart of raw-pg.ts.
 *
 * MariaDB has no UPDATE … RETURNING and refuses `UPDATE … WHERE id IN (SELECT … LIMIT)`, so a
 * lane claims in a short transaction: START TRANSACTION, one locking SELECT that also reads the
 * args (a locking read sees the latest committed row, so no read-back is needed), one UPDATE by
 * primary key, COMMIT: four round trips (Concordia's claim is three autocommitted statements, see
 * MysqlDialect.claim). The lane then "runs" the no-op jobs (parses their args) and completes the
 * batch with one UPDATE.
 *
 * Same table, indexes, states and UTC_TIMESTAMP(3) clock as MysqlDialect; no lease fence, events
 * or per-job bookkeeping. Each lane keeps one connection at READ COMMITTED (REPEATABLE READ would
 * add gap locks the claim does not need, held here until COMMIT).
 */
import mysql from 'mysql2/promise';
import { jobsDdl, Meter, MYSQL_URL, rateResult, type CaseResult, type CaseSpec } from '../lib/common.ts';

export async function run(spec: CaseSpec): Promise<CaseResult> {
  const table = `bench_${spec.tag}`;
  const lanes = Number(spec.opts['lanes'] ?? 4);
  const batch = Number(spec.opts['batch'] ?? 100);
  if (!Number.isInteger(spec.n) || spec.n < 1) throw new Error(`raw-mysql: bad n ${spec.n}`);
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: lanes + 1 });
  try {
    for (const stmt of jobsDdl('mysql', table)) await pool.query(stmt);
    // Pre-insert with one INSERT … SELECT over MariaDB's built-in sequence table: not measured.
    await pool.query(
      `INSERT INTO ${table} (queue, kind, args, run_at, created_at) ` +
        `SELECT 'default', 'noop', JSON_OBJECT('i', seq), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM seq_1_to_${spec.n}`,
    );
    const pick =
      `SELECT id, CAST(args AS CHAR) AS args FROM ${table} WHERE state = 'available' AND queue = 'default' ` +
      `AND run_at <= UTC_TIMESTAMP(3) ORDER BY priority, run_at, id LIMIT ${batch} FOR UPDATE SKIP LOCKED`;
    const mark =
      `UPDATE ${table} SET state = 'running', attempt = attempt + 1, attempted_at = UTC_TIMESTAMP(3), lease_token = UUID(), ` +
      `locked_by = ?, lease_expires_at = UTC_TIMESTAMP(3) + INTERVAL 30 SECOND WHERE id IN (?)`;
    const complete =
      `UPDATE ${table} SET state = 'completed', finalized_at = UTC_TIMESTAMP(3), lease_expires_at = NULL ` +
      `WHERE id IN (?) AND state = 'running'`;
    // One dedicated connection per lane, taken before the clock starts.
    const conns = await Promise.all(Array.from({ length: lanes }, () => pool.getConnection()));
    for (const c of conns) await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    let done = 0;
    const meter = new Meter();
    meter.start();
    const lane = async (conn: mysql.PoolConnection, name: string): Promise<void> => {
      for (;;) {
        await conn.query('START TRANSACTION');
        let rows: mysql.RowDataPacket[];
        try {
          [rows] = await conn.query<mysql.RowDataPacket[]>(pick);
          if (rows.length > 0) await conn.query(mark, [name, rows.map((r) => r['id'] as number)]);
          await conn.query('COMMIT');
        } catch (error) {
          await conn.query('ROLLBACK').catch(() => {});
          // InnoDB may roll back one of ten lanes as a deadlock victim; any loop on it must claim again.
          if ((error as { errno?: number }).errno === 1213) continue;
          throw error;
        }
        if (rows.length === 0) return;
        for (const r of rows) JSON.parse(String(r['args']));
        for (let tries = 1; ; tries++) {
          try {
            const [res] = await conn.query<mysql.ResultSetHeader>(complete, [rows.map((r) => r['id'] as number)]);
            done += res.affectedRows;
            break;
          } catch (error) {
            if ((error as { errno?: number }).errno !== 1213 || tries >= 5) throw error;
          }
        }
      }
    };
    try {
      await Promise.all(conns.map((c, i) => lane(c, `raw-${i}`)));
    } finally {
      for (const c of conns) c.release();
    }
    const m = meter.stop();
    const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS c FROM ${table} WHERE state = 'completed'`);
    const confirmed = Number(rows[0]?.['c'] ?? 0);
    if (confirmed !== done || confirmed !== spec.n) throw new Error(`raw-mysql: counted ${done}, database has ${confirmed} of ${spec.n}`);
    return rateResult(spec.n, confirmed, m);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await pool.end();
  }
}
