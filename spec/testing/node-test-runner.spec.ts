/**
 * `concordia/testing` is runner-agnostic: the fixture uses node's built-in `node:test` only.
 * It is run here as a child process with the same Node binary as vitest.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('the node:test fixture passes under `node --test`', async () => {
  const file = fileURLToPath(new URL('../../fixtures/testing-node-runner/checkout.test.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', file], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  expect(stdout).toMatch(/^# pass 2$/m);
  expect(stdout).toMatch(/^# fail 0$/m);
  expect(stdout).toContain('ok 1 - checkout enqueues a receipt in its transaction');
});
