/**
 * vitest globalSetup: decides once per run where PostgreSQL and MariaDB come from (see
 * database-source.ts), starts containers where that is the answer, and provides the URLs to
 * every test worker (read back by databases.ts through `inject`). The containers are stopped
 * when the run ends.
 *
 * `testcontainers` is imported only when a container is needed, by a specifier the type checker
 * does not follow: machines without Docker (CI here) never load it, and the repository does not
 * need its types to type-check.
 */
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { chooseDatabaseSource, dockerReachable, type ServerDb } from './database-source.ts';
import { emulatorsForRun } from './emulators.ts';
import './emulator-endpoints.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of each server database for this run, as decided by globalSetup. */
    concordiaDatabaseUrls: { postgres: string; mysql: string };
  }
}

/** The few members of testcontainers this setup uses. */
interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}
interface ContainerBuilder {
  withEnvironment(env: Record<string, string>): ContainerBuilder;
  withExposedPorts(...ports: number[]): ContainerBuilder;
  start(): Promise<StartedContainer>;
}
interface Testcontainers {
  GenericContainer: new (image: string) => ContainerBuilder;
}

/** The images CI runs as services (.github/workflows/ci.yml), so a local run tests the same servers. */
const IMAGES: Record<ServerDb, { image: string; port: number; env: Record<string, string>; url: (host: string, port: number) => string }> = {
  postgres: {
    image: 'postgres:15',
    port: 5432,
    env: { POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' },
    url: (host, port) => `postgres://postgres@${host}:${port}/test`,
  },
  mysql: {
    image: 'mariadb:10.11',
    port: 3306,
    env: { MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_DATABASE: 'test' },
    url: (host, port) => `mysql://root@${host}:${port}/test`,
  },
};

/** Waits until the server accepts a session: both images listen on their port before their init scripts finish. */
async function untilReady(db: ServerDb, url: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if (db === 'postgres') {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
        await client.connect();
        await client.end();
      } else {
        const conn = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
        await conn.end();
      }
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the ${db} container did not accept connections within 120 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function loadTestcontainers(): Promise<Testcontainers> {
  const specifier = 'testcontainers';
  try {
    return (await import(specifier)) as Testcontainers;
  } catch (error) {
    throw new Error(
      'A Docker engine is reachable and no CONCORDIA_PG_URL / CONCORDIA_MYSQL_URL is set, so the suite wants to start its databases ' +
        'with testcontainers, which is not installed (npm install). Or set the URLs, or CONCORDIA_TESTCONTAINERS=0 for the loopback servers.',
      { cause: error },
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  const docker = dockerReachable(env, existsSync);
  const started: StartedContainer[] = [];
  // The JVMs start while the databases are found (about 2 s each on an idle machine).
  const emulators = emulatorsForRun(env);
  // Settled here so that a database failure below cannot leave the rejection unhandled.
  emulators.catch(() => undefined);
  const urls = { postgres: '', mysql: '' };
  try {
    for (const db of ['postgres', 'mysql'] as const) {
      const source = chooseDatabaseSource(db, env, docker);
      if (source.kind !== 'testcontainers') {
        urls[db] = source.url;
        continue;
      }
      const { GenericContainer } = await loadTestcontainers();
      const spec = IMAGES[db];
      const container = await new GenericContainer(spec.image).withEnvironment(spec.env).withExposedPorts(spec.port).start();
      started.push(container);
      urls[db] = spec.url(container.getHost(), container.getMappedPort(spec.port));
      await untilReady(db, urls[db]);
      console.log(`concordia specs: ${db} from testcontainers (${spec.image}) at ${urls[db]}: ${source.reason}`);
    }
  } catch (error) {
    // Stop what did start, containers and JVMs alike, before failing the run.
    await Promise.allSettled(started.map((c) => c.stop()));
    const running = await emulators.catch(() => null);
    await Promise.allSettled((running?.started ?? []).map((e) => e.stop()));
    throw error;
  }
  project.provide('concordiaDatabaseUrls', urls);
  const { endpoints, started: emulatorsStarted } = await emulators.catch(async (error: unknown) => {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw error;
  });
  project.provide('concordiaEmulators', endpoints);
  return async () => {
    await Promise.allSettled([...started.map((c) => c.stop()), ...emulatorsStarted.map((e) => e.stop())]);
  };
}
