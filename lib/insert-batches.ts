/**
 * Splitting a batch of jobs into INSERT statements that every server accepts: at most
 * {@link MAX_ROWS_PER_INSERT} rows (bound parameters) and at most a byte budget per statement
 * (MariaDB drops the connection on a statement above `max_allowed_packet`).
 *
 * @internal
 */
import { InvalidArgsError } from './errors.ts';
import type { InsertRow } from './job.ts';

/** Largest number of rows in one INSERT (9 parameters each: far below every placeholder limit). */
export const MAX_ROWS_PER_INSERT = 1000;

/**
 * The byte budget of one insert where the store states no smaller limit: PostgreSQL takes
 * messages up to 1 GB and SQLite strings up to 1e9 bytes, but one statement, and the memory it
 * holds on both ends, should stay moderate.
 */
export const DEFAULT_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Batches whose estimated size stays under this never ask the server for its packet limit:
 * every supported server accepts statements of 1 MiB (MariaDB's smallest default is 16 MiB).
 */
export const SMALL_BATCH_BYTES = 1024 * 1024;

/** Fixed part of a row's cost: numbers, times, quotes and separators. */
const ROW_OVERHEAD_BYTES = 256;

/**
 * An upper bound of what one row adds to the statement on the wire. Values interpolated into
 * the text (mysql2) are escaped, which at worst doubles them; bound values (pg, SQLite) travel
 * once, so the bound is generous there.
 */
export function rowCost(row: InsertRow): number {
  const text = Buffer.byteLength(row.argsJson, 'utf8') + (row.metadataJson ? Buffer.byteLength(row.metadataJson, 'utf8') : 0);
  return 2 * (text + row.queue.length + row.kind.length) + ROW_OVERHEAD_BYTES;
}

/** The estimated size of the whole batch, to decide whether the server's limit must be read. */
export function batchCost(rows: readonly InsertRow[]): number {
  let sum = 0;
  for (const r of rows) sum += rowCost(r);
  return sum;
}

/**
 * Consecutive groups of `rows`, in order, each within `maxRows` rows and `maxBytes` estimated
 * bytes. A row that alone exceeds `maxBytes` can never be sent: it is refused with a typed
 * error (`index` names it) before any statement runs.
 */
export function splitRows(rows: readonly InsertRow[], maxRows: number, maxBytes: number): InsertRow[][] {
  const chunks: InsertRow[][] = [];
  let chunk: InsertRow[] = [];
  let bytes = 0;
  rows.forEach((row, index) => {
    const cost = rowCost(row);
    if (cost > maxBytes) {
      throw new InvalidArgsError(
        rows.length === 1 ? 'args' : `jobs[${index}].args`,
        `this job needs up to ${cost} bytes in one statement, over the ${maxBytes} bytes the database accepts ` +
          '(MariaDB: max_allowed_packet, with escaping counted twice). Store large payloads elsewhere and pass a reference.',
      );
    }
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + cost > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += cost;
  });
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
