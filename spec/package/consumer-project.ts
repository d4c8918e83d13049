/**
 * Packing the package as `npm pack` would publish it, and installing the tarball into a fresh
 * project outside the repository, as a user does: no access to this repository's node_modules.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);

/** Runs a command; on failure the error carries its output. */
export async function sh(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeout ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${options.cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
}

/** npm, run by the Node running the tests (the repository pins Node 24; the system's may be older). */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return sh('npm', args, { cwd, env: { ...env, npm_config_update_notifier: 'false' } });
}

/**
 * Packs the package from a copy of its sources (package.json, the READMEs, the build scripts and
 * the folders the build compiles), so `prepack` runs its clean build there: this proves `npm pack` builds what it
 * ships, without deleting the repository's dist/ under the feet of spec files running in
 * parallel. The copy borrows the repository's node_modules for the build tools only.
 * Returns the tarball's path.
 */
export async function packFromSources(dir: string): Promise<string> {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { include: string[] };
  // scripts/: the build also runs scripts/build-dashboard-ui.ts (the dashboard's page).
  for (const name of ['package.json', 'README.md', 'CHANGELOG.md', 'tsconfig.json', 'tsconfig.build.json', 'scripts', ...build.include]) {
    cpSync(join(root, name), join(src, name), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
  const out = await npm(['pack', '--json', '--pack-destination', dir], src);
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string }];
  return join(dir, filename);
}

/** The version of `name` this repository installs (what its own specs run against). */
export function repoVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Native add-ons whose install script compiles from source for minutes (better-sqlite3 has no
 * prebuilt binary for every Node; sqlite3 downloads one or compiles). Installs run with
 * --ignore-scripts and take the binary the repository already built for the same version and
 * the same Node; the file it is loaded from is the one the install script would produce.
 */
const nativeAddons: Record<string, string> = {
  'better-sqlite3': 'build/Release/better_sqlite3.node',
  sqlite3: 'build/Release/node_sqlite3.node',
};

function provideNativeBinaries(project: string): void {
  for (const [name, binary] of Object.entries(nativeAddons)) {
    const installed = join(project, 'node_modules', name);
    const built = join(root, 'node_modules', name, binary);
    // better-sqlite3 13 also ships prebuilt binaries it loads when nothing was compiled.
    if (!existsSync(installed) || existsSync(join(installed, binary)) || !existsSync(built)) continue;
    const version = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version;
    if (version !== repoVersion(name)) throw new Error(`${name} ${version} installed, the repository's build is ${repoVersion(name)}`);
    mkdirSync(join(installed, binary, '..'), { recursive: true });
    cpSync(built, join(installed, binary));
  }
}

/** One consumer project: the tarball, plus the peers (and their drivers) of one adapter. */
export interface ConsumerProject {
  name: string;
  /** Packages installed next to the tarball, at the versions this repository tests. */
  install: string[];
  /** The fixtures/packed-consumer script that runs enqueue → work → drain, if any. */
  script?: string;
  /** The database the script needs (its URL or file is passed as argv[2]). */
  db?: 'postgres' | 'mysql' | 'sqlite';
}

/**
 * Creates the project in `dir` and installs into it: the tarball, whose declared dependencies
 * npm installs, and `project.install`. Optional peers of the package are not installed by npm,
 * so nothing else is there. Copies the consumer scripts in. Returns the install's duration in ms.
 */
export async function installProject(dir: string, tarball: string, project: ConsumerProject): Promise<number> {
  const started = Date.now();
  mkdirSync(dir, { recursive: true });
  const dependencies: Record<string, string> = { concordia: `file:${tarball}` };
  for (const name of project.install) dependencies[name] = repoVersion(name);
  // The repository pins better-sqlite3 the same way (@mikro-orm/sqlite asks for an older patch).
  const overrides = project.install.includes('better-sqlite3') || project.install.includes('@mikro-orm/sqlite') ? { 'better-sqlite3': repoVersion('better-sqlite3') } : {};
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${project.name}`, private: true, dependencies, overrides }, null, 2));
  // --ignore-scripts: concordia has no install scripts; the peers' native builds are provided above.
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], dir);
  provideNativeBinaries(dir);
  for (const file of readdirSync(join(root, 'fixtures', 'packed-consumer'))) {
    cpSync(join(root, 'fixtures', 'packed-consumer', file), join(dir, file));
  }
  return Date.now() - started;
}

/**
 * Runs `jobs` (async functions) at most `limit` at a time, in order; returns their promises in
 * the same order, each settling when its own job does.
 */
export function limited<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T>[] {
  let running = 0;
  const waiting: (() => void)[] = [];
  return jobs.map(async (job) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  });
}
