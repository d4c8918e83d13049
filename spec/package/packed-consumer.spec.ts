/**
 * The package as a user gets it. `npm pack` (its prepack builds from the sources), then:
 * - the tarball holds every file the exports map and bin name, and nothing that points at a file
 *   it does not hold (source maps, links in the shipped READMEs);
 * - publint and @arethetypeswrong/cli find nothing;
 * - for each adapter, a fresh project outside the repository (under the OS temp folder) installs
 *   the tarball with its declared dependencies plus that one adapter's peers and drivers, imports
 *   every export those allow with ESM `import` and CommonJS `require()`, and runs enqueue → work
 *   → drain on a real database (fixtures/packed-consumer/). Between them the projects import
 *   every export.
 * Installs run two at a time from npm's cache; the timings are logged. In CI a database that is
 * down fails the test; elsewhere its project is skipped with a notice.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReachable, MYSQL_URL, PG_URL } from '../support/databases.ts';
import { installProject, limited, packFromSources, root, sh, type ConsumerProject } from './consumer-project.ts';
import { checkPackage, entryPoints, importsOf, packageOf, type PackageJson } from './import-graph.ts';

const projects: ConsumerProject[] = [
  // Nothing but the package and its dependencies: the engine, memory, testing and every adapter
  // entry point that needs its ORM only for types load here.
  { name: 'core', install: [], script: 'memory.mjs' },
  { name: 'otel', install: ['@opentelemetry/api'] },
  // The DynamoDB adapter sends TransactWriteItems itself (`transact`), so it loads the SDK at run time.
  { name: 'dynamodb', install: ['@aws-sdk/client-dynamodb'] },
  { name: 'pg', install: ['pg'], script: 'pg.mjs', db: 'postgres' },
  { name: 'mysql2', install: ['mysql2'], script: 'mysql2.mjs', db: 'mysql' },
  { name: 'better-sqlite3', install: ['better-sqlite3'], script: 'better-sqlite3.mjs', db: 'sqlite' },
  { name: 'knex', install: ['knex', 'better-sqlite3'], script: 'knex.mjs', db: 'sqlite' },
  { name: 'kysely', install: ['kysely', 'better-sqlite3'], script: 'kysely.mjs', db: 'sqlite' },
  { name: 'drizzle', install: ['drizzle-orm', 'better-sqlite3'], script: 'drizzle.mjs', db: 'sqlite' },
  { name: 'typeorm', install: ['typeorm', 'better-sqlite3'], script: 'typeorm.mjs', db: 'sqlite' },
  { name: 'mikro-orm', install: ['@mikro-orm/core', '@mikro-orm/sqlite'], script: 'mikro-orm.mjs', db: 'sqlite' },
  { name: 'sequelize', install: ['sequelize', 'sqlite3'], script: 'sequelize.mjs', db: 'sqlite' },
  // The prisma CLI generates the client in the project, from the shipped schema fragment.
  { name: 'prisma', install: ['@prisma/client', '@prisma/adapter-pg', 'pg', 'prisma'], script: 'prisma.mjs', db: 'postgres' },
];

const reachable = { postgres: await isReachable('postgres'), mysql: await isReachable('mysql'), sqlite: true };
for (const db of ['postgres', 'mysql'] as const) {
  if (reachable[db]) continue;
  if (process.env['CI']) throw new Error(`packed-consumer: ${db} is not reachable; CI runs every adapter on its database.`);
  console.warn(`\n!!! packed consumer on ${db} SKIPPED: the database is not reachable.\n`);
}

const timings: Record<string, number> = {};
function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return run().finally(() => (timings[label] = Date.now() - started));
}

/** The package's own files, relative to its root, as the tarball holds them. */
function tarballFiles(tarball: string): Promise<string[]> {
  return sh('tar', ['-tzf', tarball], { cwd: tmpdir() }).then((out) =>
    out
      .split('\n')
      .filter((line) => line.startsWith('package/') && !line.endsWith('/'))
      .map((line) => line.slice('package/'.length)),
  );
}

describe('the packed package, installed as a user installs it', () => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'concordia-packed-'));
  let tarball: string;
  let unpacked: string;
  let files: string[];
  let installs: Record<string, Promise<number>>;

  beforeAll(async () => {
    tarball = await timed('npm pack (prepack build)', () => packFromSources(dir));
    files = await tarballFiles(tarball);
    unpacked = join(dir, 'unpacked');
    await sh('mkdir', ['-p', unpacked], { cwd: dir });
    await sh('tar', ['-xzf', tarball, '-C', unpacked], { cwd: dir });
    // Two installs at a time: npm is mostly waiting on the disk and its cache, and the machine
    // runs other spec files meanwhile.
    const pending = limited(
      2,
      projects.map((p) => () => timed(`install ${p.name}`, () => installProject(join(dir, p.name), tarball, p))),
    );
    installs = Object.fromEntries(projects.map((p, i) => [p.name, pending[i]!]));
    // A failed install is reported by its own test; keep the others from reporting unhandled.
    for (const p of pending) p.catch(() => {});
  }, 300_000);

  afterAll(async () => {
    timings['total'] = Date.now() - started;
    console.log(`packed consumer timings (s): ${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ')}`);
    // A dozen node_modules folders: tens of thousands of files.
    await rm(dir, { recursive: true, force: true });
  }, 300_000);

  describe('the tarball', () => {
    it('holds a built dist/ and every file the exports map and bin name', () => {
      const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as PackageJson;
      expect(files).toContain('dist/lib/index.js');
      const { problems } = checkPackage(join(unpacked, 'package'));
      expect(problems).toEqual([]);
      // Every pattern export names at least one file, and the non-JavaScript ones are shipped too.
      for (const [key, value] of Object.entries(pkg.exports)) {
        const targets = typeof value === 'string' ? [value] : Object.values(value);
        for (const target of targets) {
          const [head, tail = ''] = target.slice(2).split('*') as [string, string?];
          const matches = files.filter((f) => (target.includes('*') ? f.startsWith(head) && f.endsWith(tail) : f === head));
          expect(matches.length, `${key} → ${target}`).toBeGreaterThan(0);
        }
      }
      expect(entryPoints(join(unpacked, 'package'), pkg).length).toBeGreaterThan(30);
    });

    it('points at no file it does not hold: no source maps without their sources, no relative links out of the package', () => {
      expect(files).toContain('schema/knex/0001_create_concordia_jobs.ts');
      for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
        const text = readFileSync(join(unpacked, 'package', file), 'utf8');
        const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
        if (!map || map.startsWith('data:')) continue;
        const mapFile = join(file, '..', map);
        expect(files, `${file} names its map ${map}`).toContain(mapFile);
        const { sources, sourcesContent } = JSON.parse(readFileSync(join(unpacked, 'package', mapFile), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
        expect(sourcesContent?.length, `${mapFile} must carry its sources`).toBe(sources.length);
      }
      // The schema sources users copy into their own migrations (schema/knex/*.ts, …) are
      // self-contained: relative imports stay inside the package, bare ones are declared.
      const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as PackageJson;
      const declared = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
      for (const source of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
        for (const specifier of importsOf(join(unpacked, 'package', source))) {
          if (specifier.startsWith('.')) expect(files, `${source} imports ${specifier}`).toContain(join(source, '..', specifier));
          else expect(declared, `${source} imports ${specifier}`).toContain(packageOf(specifier));
        }
      }
      for (const doc of files.filter((f) => f.endsWith('.md'))) {
        const text = readFileSync(join(unpacked, 'package', doc), 'utf8');
        for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
          if (/^[a-z][a-z0-9+.-]*:/i.test(target!) || target!.startsWith('#')) continue;
          const path = join(doc, '..', target!.split('#')[0]!);
          expect(files, `${doc} links to ${target}`).toContain(path);
        }
      }
    });

    it('passes publint with nothing to report', async () => {
      const { publint } = await import('publint');
      const { formatMessage } = await import('publint/utils');
      const buffer = readFileSync(tarball);
      const result = await publint({ pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) }, level: 'suggestion' });
      expect(result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg) ?? m.code}`)).toEqual([]);
    }, 60_000);

    it('passes @arethetypeswrong/cli with no problem for an ESM-only package on Node >= 22.12', async () => {
      // Profile esm-only: it leaves out two resolution modes that do not apply to this package.
      // node10 (moduleResolution "node") predates the exports map every subpath relies on, and no
      // Node in `engines` resolves that way. node16-cjs is TypeScript's model of CommonJS code
      // that can only import() ESM; since Node 22.12 require() loads ESM, which is how CommonJS
      // users load it (tested below with require()), and TypeScript's module "nodenext" allows
      // it. Both remaining modes (node16 from ESM, bundler) must be clean.
      const out = await sh(process.execPath, [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), tarball, '--profile', 'esm-only', '--format', 'json'], {
        cwd: dir,
      }).catch((error: Error) => error.message);
      const json = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { analysis: { problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] } };
      const relevant = json.analysis.problems.filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
      expect(relevant).toEqual([]);
    }, 120_000);
  });

  /**
   * Each export of the tarball and the peers it needs. Only peers decide where an export is
   * imported: anything else it needs (a dependency, or an undeclared package) must load in every
   * project, so a missing dependency fails the imports instead of shrinking them.
   */
  const graphOfTarball = () => {
    const pkgRoot = join(unpacked, 'package');
    const peers = Object.keys((JSON.parse(readFileSync(join(pkgRoot, 'package.json'), 'utf8')) as PackageJson).peerDependencies ?? {});
    const { graphs, needs } = checkPackage(pkgRoot);
    return graphs.filter((g) => g.specifier).map((g) => ({ specifier: g.specifier!, peers: needs[g.key]!.filter((name) => peers.includes(name)) }));
  };
  const imported = new Set<string>();

  for (const project of projects) {
    const skip = project.db !== undefined && !reachable[project.db];
    describe.skipIf(skip)(`with ${project.install.length ? project.install.join(' + ') : 'no peer'} (${project.name})`, () => {
      const cwd = () => join(dir, project.name);
      const loadable = () => graphOfTarball().filter((e) => e.peers.every((name) => project.install.includes(name)));

      it('installs', async () => {
        await installs[project.name];
      }, 600_000);

      it('imports every export it has the peers for, with import and with require()', async () => {
        await installs[project.name];
        const specifiers = loadable().map((e) => e.specifier);
        expect(specifiers.length).toBeGreaterThan(0);
        const esm = JSON.parse(await sh(process.execPath, ['load.mjs', ...specifiers], { cwd: cwd() })) as Record<string, number>;
        const cjs = JSON.parse(await sh(process.execPath, ['load.cjs', ...specifiers], { cwd: cwd() })) as Record<string, number>;
        for (const s of specifiers) {
          expect(esm[s], s).toBeGreaterThan(0);
          expect(cjs[s], s).toBe(esm[s]);
          imported.add(s);
        }
      }, 600_000);

      if (project.name === 'core') {
        it('runs the concordia bin without any driver installed', async () => {
          await installs[project.name];
          const out = await sh(process.execPath, [join(cwd(), 'node_modules', '.bin', 'concordia'), '--help'], { cwd: cwd() });
          expect(out).toMatch(/concordia/i);
        }, 120_000);
      }

      if (project.name === 'prisma') {
        it('generates the Prisma client from the shipped schema fragment', async () => {
          await installs[project.name];
          const fragment = readFileSync(join(cwd(), 'node_modules', 'concordia', 'schema', 'prisma', 'postgresql', 'concordia.prisma'), 'utf8');
          const schema = `generator client {\n  provider = "prisma-client"\n  output   = "./client"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n\n${fragment}`;
          writeFileSync(join(cwd(), 'schema.prisma'), schema);
          await timed('prisma generate', () =>
            sh(process.execPath, [join(cwd(), 'node_modules', 'prisma', 'build', 'index.js'), 'generate', '--schema', 'schema.prisma'], {
              cwd: cwd(),
              // generate only checks that a schema engine resolves; it never runs it (see spec/support/prisma-harness.ts).
              env: { PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
            }),
          );
        }, 300_000);
      }

      if (project.script) {
        it(`enqueues in a transaction, works and drains (${project.db ?? 'memory'})`, async () => {
          await installs[project.name];
          const target = project.db === 'postgres' ? PG_URL : project.db === 'mysql' ? MYSQL_URL : join(cwd(), 'consumer.sqlite');
          const out = await timed(`run ${project.name}`, () => sh(process.execPath, [project.script!, target], { cwd: cwd(), timeout: 120_000 }));
          expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
            before: ['a:available', 'b:available'],
            seen: ['a', 'b'],
            after: ['a:completed', 'b:completed'],
          });
        }, 180_000);
      }
    });
  }

  it.skipIf(!reachable.postgres || !reachable.mysql)('imported every export in one project or another', () => {
    expect(graphOfTarball().map((e) => e.specifier).filter((s) => !imported.has(s))).toEqual([]);
  });
});
