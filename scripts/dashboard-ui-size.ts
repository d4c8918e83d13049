/**
 * Prints how much the dashboard page weighs: builds its browser files into a temporary folder
 * (the same build `npm run build` runs), then lists every file the page loads with its size and
 * its gzipped size, and the totals. The README's dashboard section quotes the gzipped total;
 * rerun this after changing lib/dashboard/ui/ to refresh it.
 *
 * Gzip at zlib's default level (6), what compression middleware such as Express's `compression`
 * sends by default; the handler itself does not compress, so without such middleware the page
 * travels uncompressed (the plain total). Each file counts on its own, as a browser fetches it.
 *
 * Usage: node scripts/dashboard-ui-size.ts [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'concordia-dashboard-size-'));
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-dashboard-ui.ts'), out], { stdio: 'pipe' });
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(out, name)).isFile())
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(out, name));
      return { name, bytes: bytes.length, gzipped: gzipSync(bytes).length };
    });
  const total = { bytes: files.reduce((s, f) => s + f.bytes, 0), gzipped: files.reduce((s, f) => s + f.gzipped, 0) };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ files, total }, null, 2));
  } else {
    const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
    for (const f of files) console.log(`${f.name.padEnd(20)} ${kib(f.bytes).padStart(10)} ${kib(f.gzipped).padStart(10)} gzipped`);
    console.log(`${`total (${files.length} files)`.padEnd(20)} ${kib(total.bytes).padStart(10)} ${kib(total.gzipped).padStart(10)} gzipped`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
