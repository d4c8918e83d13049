/**
 * The Prisma adapter's own decisions, on stand-in clients (no database): provider detection,
 * refusal of handles that are not a transaction client, and result normalisation.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, NotInTransactionError, UnknownDialectError } from '../../lib/errors.ts';
import { prismaAdapter, type PrismaClientLike, type PrismaTransactionClient } from '../../adapters/prisma/prisma-adapter.ts';

/** A stand-in transaction client that records statements and answers with `rows`. */
function fakeTx(rows: unknown[] = [], calls: unknown[][] = []): PrismaTransactionClient {
  return {
    $queryRawUnsafe: async (...args: unknown[]) => (calls.push(args), rows),
    $executeRawUnsafe: async (...args: unknown[]) => (calls.push(args), 1),
  };
}

/** A stand-in root client; `internals` are the private fields Prisma would carry. */
function fakeRoot(internals: Record<string, unknown> = {}, tx = fakeTx()): PrismaClientLike {
  return Object.assign(
    {
      ...fakeTx(),
      $connect: async () => {},
      $transaction: async <R>(fn: (t: PrismaTransactionClient) => Promise<R>) => fn(tx),
    },
    internals,
  );
}

describe('prismaAdapter: provider detection', () => {
  it.each([
    [{ _activeProvider: 'postgresql' }, 'postgres'],
    [{ _engineConfig: { activeProvider: 'mysql' } }, 'mysql'],
    [{ _engineConfig: { adapter: { provider: 'sqlite' } } }, 'sqlite'],
    [{ _engineConfig: { adapter: { provider: 'postgres' } } }, 'postgres'],
  ])('reads %j', (internals, dialect) => {
    expect(prismaAdapter(fakeRoot(internals)).dialect).toBe(dialect);
  });

  it('takes an explicit provider when the client tells nothing', () => {
    expect(prismaAdapter(fakeRoot(), { provider: 'mariadb' }).dialect).toBe('mysql');
  });

  it('fails with UnknownDialectError when nothing tells the provider', () => {
    expect(() => prismaAdapter(fakeRoot({ _activeProvider: 'sqlserver' }))).toThrow(UnknownDialectError);
    expect(() => prismaAdapter(fakeRoot({ _activeProvider: 'sqlserver' }))).toThrow(/"sqlserver".*provider: "postgresql"/);
  });

  it('refuses an explicit provider that contradicts the client', () => {
    expect(() => prismaAdapter(fakeRoot({ _activeProvider: 'sqlite' }), { provider: 'postgresql' })).toThrow(InvalidOptionError);
  });

  it('refuses something that is not a PrismaClient', () => {
    expect(() => prismaAdapter({} as PrismaClientLike)).toThrow(InvalidOptionError);
  });
});

describe('prismaAdapter: bind', () => {
  const adapter = prismaAdapter(fakeRoot({ _activeProvider: 'postgresql' }));

  it('refuses the root client, a non-client and nothing', () => {
    expect(() => adapter.bind(fakeRoot({ _activeProvider: 'postgresql' }))).toThrow(NotInTransactionError);
    expect(() => adapter.bind({} as PrismaTransactionClient)).toThrow(/not a Prisma client/);
    expect(() => adapter.bind(undefined as never)).toThrow(NotInTransactionError);
  });

  it('runs on the tx client with native placeholders and normalised numbers', async () => {
    const calls: unknown[][] = [];
    const big = 2n ** 60n;
    const ex = adapter.bind(fakeTx([{ id: 7n, huge: big, text: '{"a":1}', ms: 1.5e12 }], calls));
    const rows = await ex.query('SELECT id FROM t WHERE a = ? AND b = ?', ['x', 2]);
    expect(calls[0]).toEqual(['SELECT id FROM t WHERE a = $1 AND b = $2', 'x', 2]);
    expect(rows).toEqual([{ id: 7, huge: big.toString(), text: '{"a":1}', ms: 1.5e12 }]);
    expect(await ex.execute('UPDATE t SET a = ?', [1])).toBe(1);
  });

  it('keeps ? placeholders on MariaDB and SQLite', async () => {
    for (const provider of ['mysql', 'sqlite'] as const) {
      const calls: unknown[][] = [];
      const ex = prismaAdapter(fakeRoot({ _activeProvider: provider })).bind(fakeTx([], calls));
      await ex.query('SELECT ? AS v', [1]);
      expect(calls[0]).toEqual(['SELECT ? AS v', 1]);
    }
  });

  it("runs the dispatcher's transactions through $transaction with bounded limits", async () => {
    const calls: unknown[][] = [];
    let seen: unknown;
    const root = fakeRoot({ _activeProvider: 'mysql' }, fakeTx([], calls));
    root.$transaction = async (fn, options) => ((seen = options), fn(fakeTx([], calls)));
    const out = await prismaAdapter(root, { transaction: { timeout: 1234 } }).transaction(async (ex) => ex.execute('DELETE FROM t', []));
    expect(out).toBe(1);
    expect(seen).toEqual({ maxWait: 5000, timeout: 1234 });
  });
});

describe('prismaAdapter: listen', () => {
  it('offers LISTEN only when asked for, and only on PostgreSQL', () => {
    expect(prismaAdapter(fakeRoot({ _activeProvider: 'postgresql' })).listen).toBeUndefined();
    expect(prismaAdapter(fakeRoot({ _activeProvider: 'postgresql' }), { listen: 'postgres://localhost/db' }).listen).toBeTypeOf('function');
    for (const provider of ['mysql', 'sqlite'] as const) {
      expect(() => prismaAdapter(fakeRoot({ _activeProvider: provider }), { listen: 'postgres://localhost/db' })).toThrow(InvalidOptionError);
    }
  });

  it('refuses a listen source that is neither a connection string nor a pool', () => {
    const root = fakeRoot({ _activeProvider: 'postgresql' });
    expect(() => prismaAdapter(root, { listen: '' })).toThrow(/connection string or a pg.Pool/);
    expect(() => prismaAdapter(root, { listen: {} as never })).toThrow(InvalidOptionError);
  });
});
