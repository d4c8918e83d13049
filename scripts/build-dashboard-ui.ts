/**
 * Builds the dashboard's browser files: compiles lib/dashboard/ui/*.ts with its own tsconfig
 * (DOM, no Node) and copies the other files (page, styles, images) beside them, into
 * dist/lib/dashboard/ui/, where the handler in dist/lib/dashboard/ serves them from. Run by
 * `npm run build` after the package's own compile.
 *
 * Usage: node scripts/build-dashboard-ui.ts [out-dir]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'lib', 'dashboard', 'ui');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'lib', 'dashboard', 'ui'));

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(source, 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });

/** What the browser never loads: sources and the compiler's settings. */
const isBuildInput = (name: string): boolean => name.endsWith('.ts') || name === 'tsconfig.json';

let copied = 0;
for (const name of readdirSync(source, { recursive: true, encoding: 'utf8' })) {
  const from = join(source, name);
  if (statSync(from).isDirectory() || isBuildInput(name)) continue;
  mkdirSync(dirname(join(out, name)), { recursive: true });
  cpSync(from, join(out, name));
  copied++;
}
console.log(`dashboard ui: compiled and copied ${copied} files into ${out}`);
