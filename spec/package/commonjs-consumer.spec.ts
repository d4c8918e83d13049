/**
 * The published package is ESM; CommonJS consumers on Node >= 22.12 load it with require().
 * This runs a .cjs file against the built `dist/` through the package's own exports map.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('package', () => {
  it('works from a CommonJS consumer through require()', () => {
    if (!existsSync(`${root}dist/lib/index.js`)) {
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root });
    }
    const out = execFileSync(process.execPath, ['fixtures/cjs-consumer/consumer.cjs'], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ seen: ['cjs'], type: 'function' });
  }, 120_000);

  it('states the Node range it is tested on', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=22.12');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
  });
});
