/**
 * Drift check between the Prisma fragments (schema/prisma/<provider>/concordia.prisma) and our
 * DDL (schema/<db>/0001_create_jobs.sql): a client generated from the fragment must read and
 * write the table our DDL creates, and the engine and the generated model must agree on every
 * value. A renamed column, a changed type or nullability, or a lost index fails here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, defineJob } from '../../lib/index.ts';
import { prismaAdapter } from '../../adapters/prisma/prisma-adapter.ts';
import { inspector } from '../support/harnesses.ts';
import { isReachable, type Db } from '../support/databases.ts';
import {
  createPrismaNamespace,
  fragmentPath,
  openPrismaClient,
  providerOf,
  type PrismaTarget,
  type TestPrismaClient,
} from '../support/prisma-harness.ts';

interface FragmentField {
  field: string;
  column: string;
  type: string;
  optional: boolean;
  native: string | null;
}

/** Reads the model's fields and index names out of the fragment text. */
function parseFragment(text: string): { fields: FragmentField[]; indexes: string[]; table: string } {
  const body = /model ConcordiaJob \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  const fields: FragmentField[] = [];
  for (const line of body.split('\n').map((l) => l.trim())) {
    const m = /^(\w+)\s+(\w+)(\?)?(.*)$/.exec(line);
    if (!m || line.startsWith('//') || line.startsWith('@@')) continue;
    const attrs = m[4] ?? '';
    fields.push({
      field: m[1]!,
      type: m[2]!,
      optional: m[3] === '?',
      column: /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? m[1]!,
      native: /@db\.(\w+(?:\(\d+\))?)/.exec(attrs)?.[1] ?? null,
    });
  }
  const indexes = [...body.matchAll(/map:\s*"([^"]+)"/g)].map((x) => x[1]!);
  const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? '';
  return { fields, indexes, table };
}

/** The catalog type each Prisma type must meet in our DDL. */
function expectedCatalogType(db: Db, f: FragmentField): string {
  if (db === 'postgres') {
    if (f.native === 'Timestamptz(3)') return 'timestamp with time zone(3)';
    if (f.native === 'SmallInt') return 'smallint';
    return { BigInt: 'bigint', String: 'text', Json: 'jsonb', Int: 'integer' }[f.type] ?? `? ${f.type}`;
  }
  if (db === 'mysql') {
    if (f.native?.startsWith('VarChar')) return f.native.replace('VarChar', 'varchar');
    if (f.native === 'DateTime(3)') return 'datetime(3)';
    if (f.native === 'SmallInt') return 'smallint(6)';
    // MariaDB's JSON is an alias of LONGTEXT (with a json_valid CHECK).
    return { BigInt: 'bigint(20)', Json: 'longtext', Int: 'int(11)' }[f.type] ?? `? ${f.type}`;
  }
  // SQLite: what matters is the affinity; Prisma's BigInt is declared BIGINT, which is INTEGER affinity.
  return { Int: 'INTEGER', BigInt: 'INTEGER', String: 'TEXT' }[f.type] ?? `? ${f.type}`;
}

for (const db of ['postgres', 'mysql', 'sqlite'] as const satisfies readonly Db[]) {
  describe(`prisma fragment ↔ DDL × ${db}`, () => {
    const provider = providerOf[db];
    const fragment = parseFragment(readFileSync(fragmentPath(provider), 'utf8'));
    let available = true;
    let prisma: TestPrismaClient;
    let target: PrismaTarget;
    let drop: () => Promise<void> = async () => {};

    beforeAll(async () => {
      available = db === 'sqlite' || (await isReachable(db));
      if (!available) return;
      const ns = await createPrismaNamespace(db);
      target = ns.target;
      drop = ns.drop;
      prisma = await openPrismaClient(target);
    });

    afterAll(async () => {
      await prisma?.$disconnect();
      await drop();
    });

    const test = (name: string, fn: () => Promise<void>) =>
      it(name, async (ctx) => {
        if (!available) return ctx.skip();
        await fn();
      });

    /** Runs `fn` with an inspector connection inside the test namespace. */
    async function withCatalog<T>(fn: (q: (sql: string, params?: (string | number)[]) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
      const ins = inspector(db, target.sqlitePath);
      try {
        return await fn((sql, params = []) => ins.ex.query(sql, params));
      } finally {
        await ins.close();
      }
    }

    test('columns, types, nullability and index names match the DDL', async () => {
      expect(fragment.table).toBe('concordia_jobs');
      const catalog = await withCatalog(async (q) => {
        if (db === 'postgres') {
          return q(
            `SELECT column_name AS name, data_type || CASE WHEN datetime_precision IS NOT NULL AND data_type LIKE 'timestamp%' THEN '(' || datetime_precision || ')' ELSE '' END AS type, ` +
              `is_nullable = 'YES' AS nullable FROM information_schema.columns WHERE table_schema = ? AND table_name = 'concordia_jobs'`,
            [target.namespace!],
          );
        }
        if (db === 'mysql') {
          return q(
            `SELECT column_name AS name, column_type AS type, is_nullable = 'YES' AS nullable FROM information_schema.columns WHERE table_schema = ? AND table_name = 'concordia_jobs'`,
            [target.namespace!],
          );
        }
        return q(`SELECT name, type, "notnull" = 0 AND pk = 0 AS nullable FROM pragma_table_info('concordia_jobs')`);
      });
      const actual = Object.fromEntries(catalog.map((r) => [String(r['name']), { type: String(r['type']), nullable: Boolean(Number(r['nullable'])) }]));
      const expected = Object.fromEntries(fragment.fields.map((f) => [f.column, { type: expectedCatalogType(db, f), nullable: f.optional }]));
      expect(actual).toEqual(expected);

      const indexes = await withCatalog(async (q) => {
        if (db === 'postgres') return q(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = 'concordia_jobs'`, [target.namespace!]);
        if (db === 'mysql') return q(`SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = ? AND table_name = 'concordia_jobs'`, [target.namespace!]);
        return q(`SELECT name FROM pragma_index_list('concordia_jobs') WHERE origin = 'c'`);
      });
      const names = indexes.map((r) => String(r['name'])).filter((n) => n !== 'PRIMARY' && n !== 'concordia_jobs_pkey');
      expect(names.sort()).toEqual([...fragment.indexes].sort());
    });

    test('the generated model creates, reads and updates every column of the DDL table', async () => {
      const t0 = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
      // SQLite keeps times as epoch ms in BigInt fields and JSON as text; the others use DateTime and Json.
      const time = (ms: number): unknown => (db === 'sqlite' ? BigInt(ms) : new Date(ms));
      const json = (v: unknown): unknown => (db === 'sqlite' ? JSON.stringify(v) : v);
      const created = await prisma.concordiaJob.create({
        data: { kind: 'drift_check', args: json({ orderId: 7, tags: ['a', 'é'] }), runAt: time(t0), createdAt: time(t0 - 1000) },
      });
      // Defaults come from the fragment and match the DDL's.
      expect(created).toMatchObject({
        queue: 'default',
        state: 'available',
        priority: 0,
        attempt: 0,
        maxAttempts: 20,
        attemptedAt: null,
        finalizedAt: null,
        leaseToken: null,
        lockedBy: null,
        leaseExpiresAt: null,
        errors: null,
        metadata: null,
      });
      const id = created['id'];
      expect(typeof id).toBe(db === 'sqlite' ? 'number' : 'bigint');

      const updated = await prisma.concordiaJob.update({
        where: { id },
        data: {
          queue: 'mail',
          state: 'running',
          priority: -2,
          attempt: 1,
          maxAttempts: 5,
          attemptedAt: time(t0 + 1),
          finalizedAt: time(t0 + 2),
          leaseToken: '0b0e9c4e-5d0c-4a57-a1b4-2f7a4c7b2f10',
          lockedBy: 'worker-1',
          leaseExpiresAt: time(t0 + 3),
          errors: json([{ attempt: 1, message: 'boom' }]),
          metadata: json({ tenant: 'acme' }),
        },
      });
      const found = await prisma.concordiaJob.findUnique({ where: { id } });
      expect(found).toEqual(updated);
      expect(found).toMatchObject({
        kind: 'drift_check',
        queue: 'mail',
        state: 'running',
        priority: -2,
        attempt: 1,
        maxAttempts: 5,
        runAt: time(t0),
        createdAt: time(t0 - 1000),
        attemptedAt: time(t0 + 1),
        finalizedAt: time(t0 + 2),
        leaseExpiresAt: time(t0 + 3),
        leaseToken: '0b0e9c4e-5d0c-4a57-a1b4-2f7a4c7b2f10',
        lockedBy: 'worker-1',
        args: json({ orderId: 7, tags: ['a', 'é'] }),
        errors: json([{ attempt: 1, message: 'boom' }]),
        metadata: json({ tenant: 'acme' }),
      });

      // What Prisma wrote is what the engine reads: times as UTC epoch ms, JSON as JSON.
      // The inspector connection is outside the test namespace: qualify the table.
      const t = target.namespace ? `${target.namespace}.concordia_jobs` : 'concordia_jobs';
      const rows = await withCatalog((q) =>
        q(
          db === 'postgres'
            ? `SELECT (extract(epoch from run_at) * 1000)::float8 AS run_at_ms, args::text AS args FROM ${t} WHERE id = ?`
            : db === 'mysql'
              ? `SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', run_at) DIV 1000 AS run_at_ms, CAST(args AS CHAR) AS args FROM ${t} WHERE id = ?`
              : `SELECT run_at AS run_at_ms, args FROM ${t} WHERE id = ?`,
          [String(id)],
        ),
      );
      expect(Number(rows[0]?.['run_at_ms'])).toBe(t0);
      expect(JSON.parse(String(rows[0]?.['args']))).toEqual({ orderId: 7, tags: ['a', 'é'] });
    });

    test('a job the engine enqueued reads back through the generated model', async () => {
      const ping = defineJob('drift_ping', { handler: async () => {} });
      const engine = createJobs({ adapter: prismaAdapter(prisma), jobs: [ping] });
      const runAt = new Date(Date.UTC(2032, 0, 2, 3, 4, 5, 678));
      const id = await prisma.$transaction((tx) => engine.enqueue(tx, ping({ text: 'naïve 東京' }), { queue: 'drift', priority: 3, runAt, metadata: { k: 1 } }));
      const row = await prisma.concordiaJob.findUnique({ where: { id: db === 'sqlite' ? Number(id) : BigInt(id) } });
      const fromJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
      expect(row).toMatchObject({ kind: 'drift_ping', queue: 'drift', priority: 3, state: 'available', attempt: 0 });
      expect(fromJson(row?.['args'])).toEqual({ text: 'naïve 東京' });
      expect(fromJson(row?.['metadata'])).toEqual({ k: 1 });
      expect(row?.['runAt']).toEqual(db === 'sqlite' ? BigInt(runAt.getTime()) : runAt);
      expect(await engine.cancel(id)).toBe(true);
      expect((await prisma.concordiaJob.findUnique({ where: { id: row?.['id'] } }))?.['state']).toBe('cancelled');
    });
  });
}
