/**
 * A throwaway Redis Cluster for tests: three masters (no replicas) started from the machine's
 * `redis-server` in a temp dir, joined with `redis-cli --cluster create`. Each node keeps its
 * state only in its temp dir (no RDB, no AOF), so a run leaves nothing behind.
 *
 * Every wait polls what the servers say (PING, CLUSTER INFO) up to a deadline: a busy machine
 * starts them slowly, and no fixed delay would be right on every machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CLI = '/usr/bin/redis-cli';

/** Whether this machine can start a cluster (both binaries are there). */
export const canStartCluster = existsSync(REDIS_SERVER) && existsSync(REDIS_CLI);

/** A running test cluster. */
export interface TestCluster {
  /** The masters, as `{ host, port }` (the startup nodes of a cluster client). */
  readonly nodes: { host: string; port: number }[];
  /** Runs `redis-cli -p port …args` and returns its output (for checks from outside the clients). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** Kills the servers and removes their temp dir. */
  stop(): Promise<void>;
}

/**
 * A port the OS says is free now, below 55535 so that its cluster bus port (port + 10000) exists.
 * The OS picks in its ephemeral range, which may lie above; then the test asks again.
 */
async function freePort(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port > 1024 && port + 10_000 <= 65_535 && !taken.has(port) && !taken.has(port + 10_000) && (await isFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair (P, P+10000) found for a Redis Cluster node');
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Polls `check` until it returns true; throws with `what` after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Starts three masters, makes them one cluster, and resolves once every node says cluster_state:ok. */
export async function startRedisCluster(options: { deadlineMs?: number; password?: string } = {}): Promise<TestCluster> {
  const deadlineMs = options.deadlineMs ?? 20_000;
  const auth = options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password];
  // redis-cli reads the password from the environment, so it is not on a command line (and warns less).
  const env = options.password === undefined ? process.env : { ...process.env, REDISCLI_AUTH: options.password };
  const dir = mkdtempSync(join(tmpdir(), 'concordia-cluster-'));
  const children: ChildProcess[] = [];
  const cli = async (port: number, ...args: string[]): Promise<string> => (await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000, env })).stdout;
  // A test process that ends without its afterAll (a crash, a timeout) must not leave servers behind.
  const killNow = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killNow);
  const stop = async (): Promise<void> => {
    process.off('exit', killNow);
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort(taken);
      taken.add(port).add(port + 10_000);
      ports.push(port);
    }
    for (const port of ports) {
      const child = spawn(
        REDIS_SERVER,
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...auth],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.push(child);
    }
    for (const port of ports) await until(`redis-server on port ${port}`, deadlineMs, async () => (await cli(port, 'PING')).trim() === 'PONG');
    await run(REDIS_CLI, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: deadlineMs, env });
    for (const port of ports) await until(`cluster_state:ok on port ${port}`, deadlineMs, async () => (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), cli, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
