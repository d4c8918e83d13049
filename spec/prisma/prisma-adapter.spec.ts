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
  /** What `new PrismaPg(…)` looks like inside a Prisma 7 client (`_engineConfig.adapter`). */
  const pgFactory = (fields: Record<string, unknown>) => ({ provider: 'postgres', adapterName: '@prisma/adapter-pg', externalPool: null, ...fields });
  const pool = { connect: async () => {}, options: { connectionString: 'postgres://localhost/db' } };

  it.each([
    ['its pool config', { _engineConfig: { adapter: pgFactory({ config: { connectionString: 'postgres://localhost/db' } }) } }],
    ['the pg.Pool it was given', { _engineConfig: { adapter: pgFactory({ config: pool.options, externalPool: pool }) } }],
    ["its engine's copy of the factory", { _activeProvider: 'postgresql', _engine: { config: { adapter: pgFactory({ config: {} }) } } }],
  ])("listens by default on PostgreSQL with @prisma/adapter-pg's settings: %s", (_what, internals) => {
    const adapter = prismaAdapter(fakeRoot(internals));
    expect(adapter.listen).toBeTypeOf('function');
    expect(adapter.setupWarnings?.() ?? []).toEqual([]);
  });

  it.each([
    ['no driver adapter where Prisma 7 keeps it', { _activeProvider: 'postgresql' }, /cannot find the driver adapter/],
    ['renamed settings fields', { _engineConfig: { adapter: pgFactory({ pgConfig: {}, externalPool: undefined }) } }, /cannot find the connection settings/],
    ['another PostgreSQL driver adapter', { _engineConfig: { adapter: { provider: 'postgres', adapterName: '@prisma/adapter-neon', config: {} } } }, /adapter-neon/],
  ])('polls with one setup warning when it finds no settings: %s', (_what, internals, reason) => {
    const root = fakeRoot(internals);
    const adapter = prismaAdapter(root);
    expect(adapter.listen).toBeUndefined();
    const warnings = adapter.setupWarnings!();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(reason);
    expect(warnings[0]).toContain('prismaAdapter(prisma, { listen: ');
    expect(warnings[0]).toContain('{ listen: false }');
    // Once per client: the next worker, or an adapter built again on it, stays quiet.
    expect(adapter.setupWarnings!()).toEqual([]);
    expect(prismaAdapter(root).setupWarnings!()).toEqual([]);
  });

  it('a private field whose getter throws counts as absent', () => {
    const root = fakeRoot({ _activeProvider: 'postgresql' });
    Object.defineProperty(root, '_engine', {
      get() {
        throw new Error('moved');
      },
    });
    expect(prismaAdapter(root).setupWarnings!()).toHaveLength(1);
  });

  it('an explicit connection string or pool overrides the detected settings', () => {
    for (const listen of ['postgres://localhost/db', pool as never]) {
      const adapter = prismaAdapter(fakeRoot({ _activeProvider: 'postgresql' }), { listen });
      expect(adapter.listen).toBeTypeOf('function');
      expect(adapter.setupWarnings).toBeUndefined();
    }
  });

  it('listen: false never listens and warns of nothing, on every database', () => {
    for (const internals of [{ _engineConfig: { adapter: pgFactory({ config: {} }) } }, { _activeProvider: 'postgresql' }, { _activeProvider: 'mysql' }, { _activeProvider: 'sqlite' }]) {
      const adapter = prismaAdapter(fakeRoot(internals), { listen: false });
      expect(adapter.listen).toBeUndefined();
      expect(adapter.setupWarnings).toBeUndefined();
    }
  });

  it('MariaDB and SQLite have no LISTEN: nothing by default, and a listen source is refused', () => {
    for (const provider of ['mysql', 'sqlite'] as const) {
      const adapter = prismaAdapter(fakeRoot({ _activeProvider: provider }));
      expect(adapter.listen).toBeUndefined();
      expect(adapter.setupWarnings).toBeUndefined();
      expect(() => prismaAdapter(fakeRoot({ _activeProvider: provider }), { listen: 'postgres://localhost/db' })).toThrow(InvalidOptionError);
      expect(() => prismaAdapter(fakeRoot({ _activeProvider: provider }), { listen: pool as never })).toThrow(/PostgreSQL only/);
    }
  });

  it('refuses a listen value that is neither a connection string, a pool nor false', () => {
    const root = fakeRoot({ _activeProvider: 'postgresql' });
    expect(() => prismaAdapter(root, { listen: '' })).toThrow(/connection string, a pg.Pool, or false/);
    for (const listen of [{}, true, 0, null]) expect(() => prismaAdapter(root, { listen: listen as never })).toThrow(InvalidOptionError);
  });
});
