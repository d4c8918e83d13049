/**
 * Every module the built package imports at run time is installed for its users: a dependency,
 * a peer (the ORM or driver an entry point adapts), or a Node builtin. The in-repo package specs
 * cannot see a missing dependency, because every dev package is installed here; this walks the
 * emitted JavaScript from each export and `bin` instead (spec/package/import-graph.ts), and
 * spec/package/packed-consumer.spec.ts installs the tarball where nothing else is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPackage, type PackageJson } from './import-graph.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson & { devDependencies: Record<string, string> };

describe('run-time imports of the built package', () => {
  beforeAll(() => {
    if (!existsSync(`${root}dist/lib/index.js`)) {
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root });
    }
  }, 120_000);

  it('are dependencies, peers or Node builtins, from every export and bin, and name only files that exist', () => {
    const { graphs, problems } = checkPackage(root);
    expect(problems).toEqual([]);
    // The walk really followed the graph (the engine alone is dozens of files).
    expect(graphs.find((g) => g.key === '.')!.files.length).toBeGreaterThan(10);
  });

  it('need no peer for the engine, the memory adapter and the testing helpers (an app with no ORM loads them)', () => {
    const { needs } = checkPackage(root);
    const dependencies = Object.keys(pkg.dependencies ?? {});
    for (const key of ['.', './memory', './testing']) {
      expect(needs[key]!.filter((name) => !dependencies.includes(name)), key).toEqual([]);
    }
    expect(needs['.']).toContain('cron-parser');
  });

  it('fails when a module the engine imports is only a devDependency (cron-parser in 0.1.0)', () => {
    const { dependencies: _moved, ...rest } = pkg;
    const asBefore = { ...rest, devDependencies: { ...pkg.devDependencies, ...pkg.dependencies } };
    expect(checkPackage(root, asBefore).problems).toContainEqual(expect.stringMatching(/^\.: .*imports 'cron-parser', but cron-parser is neither a dependency nor a peer dependency$/));
  });

  describe('on a package made for the purpose', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'concordia-graph-'));
      mkdirSync(join(dir, 'dist', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'index.js'), "import './sub/a.js';\nexport { x } from './sub/b.js';\nimport 'node:fs';\nimport os from 'os';\n");
      writeFileSync(join(dir, 'dist', 'sub', 'a.js'), "const lazy = () => import('lazy-dep/sub');\nconst cjs = () => require('@scope/cjs-dep');\nimport peer from 'a-peer';\n");
      writeFileSync(join(dir, 'dist', 'bin.js'), "import 'undeclared';\nimport self from 'made/x';\n");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('follows static, re-exported, dynamic and require() imports, and reports what is undeclared or missing', () => {
      const made: PackageJson = {
        name: 'made',
        exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './gone': './dist/gone.js', './data/*.sql': './data/*.sql' },
        bin: { made: './dist/bin.js' },
        dependencies: { 'lazy-dep': '1' },
        peerDependencies: { 'a-peer': '1' },
      };
      const { needs, problems } = checkPackage(dir, made);
      expect(needs).toEqual({ '.': ['@scope/cjs-dep', 'a-peer', 'lazy-dep'], 'bin:made': ['undeclared'] });
      expect(problems.sort()).toEqual([
        "./gone: names dist/gone.js, which does not exist",
        ".: dist/index.js imports './sub/b.js', which is not in the package",
        ".: dist/sub/a.js imports '@scope/cjs-dep', but @scope/cjs-dep is neither a dependency nor a peer dependency",
        "bin:made: dist/bin.js imports 'undeclared', but undeclared is neither a dependency nor a peer dependency",
      ]);
    });
  });
});
