/**
 * Hostile CLI flag values, checked in process (the checks run before any connection): every bad
 * value is a usage error (exit 2) with a one-line message, never a crash, a stack dump or a value
 * found on Object.prototype.
 */
import { describe, expect, it } from 'vitest';
import { checkJobId } from '../../bin/cli/cancel-command.ts';
import { CliError, EXIT } from '../../bin/cli/exit-codes.ts';
import { checkListOptions } from '../../bin/cli/list-command.ts';
import { checkPruneOptions } from '../../bin/cli/prune-command.ts';
import { checkRetryId } from '../../bin/cli/retry-command.ts';
import { schemaCommand } from '../../bin/cli/schema-command.ts';
import { ConcordiaError } from '../../lib/errors.ts';

const hostile = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  "x'; DROP TABLE t; --",
  '\u0000',
  'a\ud800',
  '',
  '-1',
  'NaN',
  'Infinity',
  '1e3',
  '0x10',
  ' 1',
  '1.5',
  'x'.repeat(10_000),
];

/** Queue and kind names: a value matching it is a valid name, not a hostile one. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A usage error, or a typed identifier error the CLI turns into one. */
function expectUsage(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught instanceof CliError || caught instanceof ConcordiaError, String(caught)).toBe(true);
  if (caught instanceof CliError) expect(caught.exitCode).toBe(EXIT.usage);
  expect((caught as Error).message.length).toBeLessThan(400);
}

describe('hostile CLI flags', () => {
  it('list: --state, --queue, --kind and --limit', () => {
    for (const v of hostile) {
      expectUsage(() => checkListOptions({ state: v }));
      if (!NAME.test(v)) {
        expectUsage(() => checkListOptions({ queue: v }));
        expectUsage(() => checkListOptions({ kind: v }));
      }
      expectUsage(() => checkListOptions({ limit: v }));
    }
    expectUsage(() => checkListOptions({ limit: '0' }));
    expectUsage(() => checkListOptions({ limit: '100001' }));
    expect(checkListOptions({ queue: 'constructor', kind: 'toString', limit: '100000' })).toMatchObject({ queue: 'constructor', limit: 100_000 });
  });

  it('prune: --state, --older-than and --batch-size', () => {
    for (const v of hostile) {
      expectUsage(() => checkPruneOptions({ state: v }));
      expectUsage(() => checkPruneOptions({ olderThan: v }));
      expectUsage(() => checkPruneOptions({ batchSize: v }));
    }
    expectUsage(() => checkPruneOptions({ state: 'available' }));
    expectUsage(() => checkPruneOptions({ olderThan: '9999999999d' }));
  });

  it('cancel and retry: the job id', () => {
    for (const v of [...hostile, '123456789012345678901', '-5', '+5']) {
      expectUsage(() => checkJobId(v));
      expectUsage(() => checkRetryId(v));
    }
  });

  it('schema: --db, --orm and --table, including Object.prototype member names', () => {
    for (const v of hostile) {
      expectUsage(() => schemaCommand({ db: v, orm: undefined, table: undefined }));
      expectUsage(() => schemaCommand({ db: 'postgres', orm: v, table: undefined }));
      expectUsage(() => schemaCommand({ db: v, orm: 'prisma', table: undefined }));
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
        expectUsage(() => schemaCommand({ db: 'postgres', orm: undefined, table: v }));
      }
    }
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });
});
