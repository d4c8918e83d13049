/**
 * The run-time import graph of a built package: from every JavaScript file the exports map and
 * `bin` name, follow relative imports (static, re-exports, dynamic `import()` with a literal,
 * `require()`) through the emitted JavaScript and collect every bare specifier each entry point
 * reaches. Type-only imports are gone from the emitted JavaScript, so what remains is exactly what
 * Node resolves when a user loads the entry point.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The package.json fields the graph reads. */
export interface PackageJson {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** One entry point: its exports-map key (or `bin:<name>`) and the JavaScript file it names. */
export interface EntryPoint {
  key: string;
  file: string;
  /** What a user imports to load it (`concordia/pg`); none for a bin. */
  specifier?: string;
}

/** What one entry point loads. */
export interface EntryGraph extends EntryPoint {
  /** Package files reached, relative to the package root. */
  files: string[];
  /** Bare specifiers reached (`pg`, `mysql2/promise`, `node:fs`), with the file that imports each. */
  bare: { specifier: string; from: string }[];
  /** Relative imports that name no file in the package. */
  missing: { specifier: string; from: string }[];
}

const jsTarget = /\.(c|m)?js$/;

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Expands an exports target with one `*` against the files under the package root: each file and what `*` stands for. */
function expandPattern(root: string, target: string): { file: string; star: string }[] {
  const [head, tail] = target.split('*') as [string, string];
  const base = resolve(root, head.slice(0, head.lastIndexOf('/') + 1));
  return listFiles(base)
    .map((path) => `./${relative(root, path)}`)
    .filter((path) => path.startsWith(head) && path.endsWith(tail) && path.length >= head.length + tail.length)
    .map((file) => ({ file, star: file.slice(head.length, file.length - tail.length) }));
}

/** Every JavaScript file the exports map (all conditions but `types`) and `bin` name. */
export function entryPoints(root: string, pkg: PackageJson): EntryPoint[] {
  const entries: EntryPoint[] = [];
  for (const [key, value] of Object.entries(pkg.exports)) {
    const targets = typeof value === 'string' ? [value] : Object.entries(value).filter(([condition]) => condition !== 'types').map(([, target]) => target);
    for (const target of targets.filter((t) => jsTarget.test(t))) {
      const files = target.includes('*') ? expandPattern(root, target) : [{ file: target, star: '' }];
      for (const { file, star } of files) {
        const subpath = key.replace('*', star);
        entries.push({ key: key.includes('*') ? `${key} (${subpath})` : key, file: resolve(root, file), specifier: `${pkg.name}${subpath.slice(1)}` });
      }
    }
  }
  const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, file] of Object.entries(bins)) entries.push({ key: `bin:${name}`, file: resolve(root, file) });
  return entries;
}

/** The module specifiers one JavaScript file imports, in every form Node evaluates. */
export function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** Walks the graph of one entry point. */
export function walk(root: string, entry: EntryPoint): EntryGraph {
  const seen = new Set<string>();
  const bare: EntryGraph['bare'] = [];
  const missing: EntryGraph['missing'] = [];
  const queue = [entry.file];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const from = relative(root, file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = resolve(dirname(file), specifier);
        if (existsSync(target) && statSync(target).isFile()) queue.push(target);
        else missing.push({ specifier, from });
      } else {
        bare.push({ specifier, from });
      }
    }
  }
  return { ...entry, files: [...seen].map((f) => relative(root, f)).sort(), bare, missing };
}

/** The package a bare specifier belongs to: `@scope/name` or `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Node's own modules (`node:fs`, `fs`). */
export function isNodeBuiltin(specifier: string): boolean {
  return isBuiltin(specifier);
}

/**
 * The packages each entry point needs at run time besides Node's builtins, and the problems:
 * a bare import that is neither a dependency nor a peer, a relative import of a missing file, an
 * entry point that names a missing file. `pkg` defaults to the package's own package.json.
 */
export function checkPackage(
  root: string,
  pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson,
): { graphs: EntryGraph[]; needs: Record<string, string[]>; problems: string[] } {
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const problems: string[] = [];
  const needs: Record<string, string[]> = {};
  const graphs: EntryGraph[] = [];
  for (const entry of entryPoints(root, pkg)) {
    if (!existsSync(entry.file)) {
      problems.push(`${entry.key}: names ${relative(root, entry.file)}, which does not exist`);
      continue;
    }
    const graph = walk(root, entry);
    graphs.push(graph);
    const packages = new Set<string>();
    for (const { specifier, from } of graph.bare) {
      if (isNodeBuiltin(specifier)) continue;
      const name = packageOf(specifier);
      // The package importing itself by name resolves through its own exports map.
      if (name === pkg.name) continue;
      packages.add(name);
      if (!declared.has(name)) problems.push(`${entry.key}: ${from} imports '${specifier}', but ${name} is neither a dependency nor a peer dependency`);
    }
    for (const { specifier, from } of graph.missing) problems.push(`${entry.key}: ${from} imports '${specifier}', which is not in the package`);
    needs[entry.key] = [...packages].sort();
  }
  return { graphs, needs, problems };
}
