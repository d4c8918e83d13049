/**
 * Every ```ts block of README.md type-checks against the real exports, so the docs cannot drift
 * from the code. Each block becomes a module of its own in a temporary folder inside the
 * repository (so the ORMs and drivers resolve from node_modules), with `concordia` and every
 * `concordia/*` subpath of package.json mapped onto this repository's sources. The compiler
 * runs once over all blocks with the repository's strict settings; a failure names the block's
 * README line.
 *
 * Preamble convention: a block that is deliberately a fragment (it uses a `jobs`, a `knex` or a
 * job definition from the surrounding text) says what it needs in an HTML comment right above
 * its fence, invisible on GitHub and npm:
 *
 *     <!-- ts-preamble
 *     import { type Jobs } from 'concordia';
 *     declare const jobs: Jobs<unknown>;
 *     -->
 *     ```ts
 *     …
 *
 * Its lines are put before the block's own. Prefer complete blocks; keep preambles to
 * declarations. Two things no preamble can declare are provided for every block:
 * `./generated/prisma/client.ts`, a Prisma client really generated (offline) from a schema with
 * an `Order` model and our PostgreSQL fragment, as `prisma generate` writes it in a user's
 * project; and the module `pino`, which is not installed here (see STUBS).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGenerated, fragmentPath } from '../support/prisma-harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readmePath = join(root, 'README.md');

/** One ```ts block of the README. */
interface Block {
  /** README line (1-based) of the first line of code, after the fence. */
  line: number;
  code: string;
  preamble: string[];
}

/** Extracts the ```ts blocks and their `<!-- ts-preamble … -->` comments. */
export function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Blocks inside list items are indented; the indent is not part of the code.
    const fence = /^( *)```ts\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!.length;
    const unindent = (line: string): string => line.slice(Math.min(indent, line.length - line.trimStart().length));
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    const preamble: string[] = [];
    if (lines[i - 1]?.trim() === '-->') {
      let open = i - 2;
      while (open >= 0 && !lines[open]!.trimStart().startsWith('<!--')) open--;
      if (open >= 0 && /^<!-- ts-preamble\s*$/.test(lines[open]!.trim())) preamble.push(...lines.slice(open + 1, i - 1).map(unindent));
    }
    blocks.push({ line: start + 1, code: lines.slice(start, end).map(unindent).join('\n'), preamble });
    i = end;
  }
  return blocks;
}

/** Ambient modules for packages the README shows but this repository does not install. */
const STUBS = `
declare module 'pino' {
  interface PinoLogger {
    debug(fields: object, message: string): void;
    info(fields: object, message: string): void;
    warn(fields: object, message: string): void;
    error(fields: object, message: string): void;
  }
  export default function pino(options?: { name?: string }): PinoLogger;
}
`;

/** The Prisma schema a user would have: generator, datasource, one model of theirs, our fragment. */
const prismaSchema = [
  'generator client {\n  provider = "prisma-client"\n  output   = "../generated/prisma"\n}\n',
  'datasource db {\n  provider = "postgresql"\n}\n',
  'model Order {\n  id    Int @id @default(autoincrement())\n  total Int\n\n  @@map("orders")\n}\n',
  readFileSync(fragmentPath('postgresql'), 'utf8'),
].join('\n');

/** `concordia` and `concordia/*` → the sources the exports map builds from. */
function pathsFromExports(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types?: string }> };
  const paths: Record<string, string[]> = {};
  for (const [key, target] of Object.entries(pkg.exports)) {
    const types = typeof target === 'string' ? undefined : target.types;
    if (!types) continue;
    const source = types.replace(/^\.\/dist\//, './').replace(/\.d\.ts$/, '.ts');
    paths[key === '.' ? 'concordia' : `concordia/${key.slice(2)}`] = [join(root, source)];
  }
  return paths;
}

const blocks = readmeBlocks(readFileSync(readmePath, 'utf8'));
const dir = join(root, '.tmp', `readme-code-${process.pid}`);
const diagnostics = new Map<number, string[]>();

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'generated', 'prisma'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'stubs.d.ts'), STUBS);
  const prismaEntry = await ensureGenerated('readme', { 'prisma/schema.prisma': prismaSchema }, 'prisma/schema.prisma', 'generated/prisma/client.ts');
  writeFileSync(join(dir, 'generated', 'prisma', 'client.ts'), `export * from '${relative(join(dir, 'generated', 'prisma'), prismaEntry).replaceAll('\\', '/')}';\n`);
  const files = new Map<string, Block>();
  for (const block of blocks) {
    const file = join(dir, `block-${block.line}.ts`);
    // `export {}` keeps a block without imports a module, so top-level await and names stay local.
    writeFileSync(file, [...block.preamble, block.code, 'export {};', ''].join('\n'));
    files.set(file, block);
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators: false,
    paths: pathsFromExports(),
  };
  const program = ts.createProgram([...files.keys(), join(dir, 'stubs.d.ts')], options);
  for (const [file, block] of files) {
    const source = program.getSourceFile(file)!;
    const found = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    diagnostics.set(
      block.line,
      found.map((d) => {
        const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
        const where = at < block.preamble.length ? `its preamble (above README line ${block.line - 1})` : `README.md:${block.line + at - block.preamble.length}`;
        return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }),
    );
  }
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README.md code blocks', () => {
  it('has TypeScript blocks to check, and every preamble sits above a block', () => {
    expect(blocks.length).toBeGreaterThan(10);
    const text = readFileSync(readmePath, 'utf8');
    expect((text.match(/^ *<!-- ts-preamble\s*$/gm) ?? []).length).toBe(blocks.filter((b) => b.preamble.length > 0).length);
  });

  it.each(blocks.map((b) => [b.line, b] as const))('the block at README line %i type-checks', (line) => {
    expect(diagnostics.get(line), `README.md block at line ${line}`).toEqual([]);
  });
});
