/**
 * The PostgreSQL NOTIFY channel of a jobs table: a name PostgreSQL accepts (at most 63 bytes:
 * `pg_notify` refuses more, LISTEN would truncate), distinct per table, the same in every process.
 */
import { describe, expect, it } from 'vitest';
import { notifyChannel, PostgresDialect } from '../../lib/dialects/postgres-dialect.ts';

describe('notifyChannel', () => {
  it('keeps the names that fit: the table, or schema_table', () => {
    expect(notifyChannel('concordia_jobs')).toBe('concordia_jobs');
    expect(notifyChannel('app.jobs')).toBe('app_jobs');
    const longest = 'a'.repeat(31) + '.' + 'b'.repeat(31);
    expect(notifyChannel(longest)).toBe(longest.replace('.', '_'));
    expect(notifyChannel('t'.repeat(63))).toBe('t'.repeat(63));
  });

  it('cuts a longer qualified name to 63 bytes, ending in a hash of the whole name', () => {
    const s = 's'.repeat(63);
    const a = `${s}.${'t'.repeat(63)}`;
    const b = `${s}.${'t'.repeat(62)}u`;
    expect(notifyChannel(a)).toHaveLength(63);
    expect(notifyChannel(a)).toMatch(/^s+_[0-9a-f]{16}$/);
    // Same first 46 characters, different tables: different channels.
    expect(notifyChannel(b)).toHaveLength(63);
    expect(notifyChannel(b)).not.toBe(notifyChannel(a));
    expect(notifyChannel(`${'x'.repeat(32)}.${'y'.repeat(31)}`)).toHaveLength(63);
    expect(notifyChannel(a)).toBe(notifyChannel(a));
  });

  it('is the channel an enqueue notifies', () => {
    const table = `${'s'.repeat(40)}.${'t'.repeat(40)}`;
    const dialect = new PostgresDialect(table);
    expect(dialect.channel).toBe(notifyChannel(table));
    const st = dialect.insertStatement([{ queue: 'q', kind: 'k', argsJson: '{}', priority: 0, maxAttempts: 1, runAt: null, delayMs: 0, metadataJson: null }], null);
    expect(st.sql).toContain('pg_notify(?, ?)');
    expect(st.params.at(-2)).toBe(notifyChannel(table));
    expect(String(st.params.at(-2)).length).toBeLessThanOrEqual(63);
  });
});
