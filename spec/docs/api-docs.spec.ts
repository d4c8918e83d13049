/**
 * The API reference builds from the TSDoc without a warning: typedoc.json treats warnings as
 * errors, so a broken `{@link}` or a public signature that names an unexported type fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const typedocBin = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
// A private output folder, so this never races a developer's `npm run docs:api` into docs/api.
const out = mkdtempSync(join(tmpdir(), 'concordia-api-docs-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('API reference (TypeDoc)', () => {
  it('builds from typedoc.json with no warnings and writes the entry-point pages', async () => {
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [typedocBin, '--options', join(root, 'typedoc.json'), '--out', out], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr });
      });
    });
    expect(run.output).not.toMatch(/\[warning\]|\[error\]/);
    expect(run.code, run.output).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    for (const page of ['concordia', 'concordia_testing', 'concordia_otel', 'concordia_knex', 'concordia_memory']) {
      expect(existsSync(join(out, 'modules', `${page}.html`)), page).toBe(true);
    }
  }, 240_000); // TypeDoc type-checks the whole project: ~20 s idle, minutes on a loaded 2-core machine
});
