/**
 * Where the spec suite gets its PostgreSQL and MariaDB from, decided per database:
 *
 * 1. a URL in the environment (`CONCORDIA_PG_URL`, `CONCORDIA_MYSQL_URL`) always wins;
 * 2. otherwise, outside CI, where a Docker engine is reachable (`DOCKER_HOST`, or a Docker
 *    socket on this machine), a throwaway container started with testcontainers;
 * 3. otherwise the loopback default (a database on this machine).
 *
 * CI (`CI=true`) never starts containers: there the databases are the machine's own services
 * (started by `.ci/run` or declared as workflow services), and starting others beside them
 * would test something else than what CI claims. `CONCORDIA_TESTCONTAINERS=0` turns containers
 * off anywhere, for a developer who has Docker but wants the local servers.
 *
 * Pure: the environment and the socket check are passed in, so every branch is unit-tested
 * (spec/support/database-source.spec.ts) on machines without Docker.
 */

export type ServerDb = 'postgres' | 'mysql';

/** The loopback defaults: the servers this repository's CI machines run. */
export const LOOPBACK_URLS: Readonly<Record<ServerDb, string>> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
};

/** The environment variable that names each database's URL. */
export const URL_VARIABLES: Readonly<Record<ServerDb, string>> = {
  postgres: 'CONCORDIA_PG_URL',
  mysql: 'CONCORDIA_MYSQL_URL',
};

/** Where the Docker socket usually is: the system engine, and rootless Docker's per-user socket. */
export function dockerSocketCandidates(env: Readonly<Record<string, string | undefined>>): string[] {
  const candidates = ['/var/run/docker.sock'];
  if (env['XDG_RUNTIME_DIR']) candidates.push(`${env['XDG_RUNTIME_DIR']}/docker.sock`);
  if (env['HOME']) candidates.push(`${env['HOME']}/.docker/run/docker.sock`);
  return candidates;
}

/** Whether a Docker engine looks reachable: `DOCKER_HOST` is set, or one of the usual sockets exists. */
export function dockerReachable(env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean): boolean {
  if (env['DOCKER_HOST']) return true;
  return dockerSocketCandidates(env).some((path) => exists(path));
}

/** Where one database comes from, and why (the reason is printed once per run). */
export type DatabaseSource =
  | { db: ServerDb; kind: 'env'; url: string; reason: string }
  | { db: ServerDb; kind: 'testcontainers'; reason: string }
  | { db: ServerDb; kind: 'loopback'; url: string; reason: string };

/** Decides where `db` comes from; see the module comment for the rules. */
export function chooseDatabaseSource(db: ServerDb, env: Readonly<Record<string, string | undefined>>, docker: boolean): DatabaseSource {
  const variable = URL_VARIABLES[db];
  const url = env[variable];
  if (url !== undefined && url !== '') return { db, kind: 'env', url, reason: `${variable} is set` };
  if (env['CI'] && env['CI'] !== 'false' && env['CI'] !== '0') {
    return { db, kind: 'loopback', url: LOOPBACK_URLS[db], reason: 'CI uses the machine\'s own database services' };
  }
  const off = env['CONCORDIA_TESTCONTAINERS'];
  if (off === '0' || off === 'false' || off === 'off') {
    return { db, kind: 'loopback', url: LOOPBACK_URLS[db], reason: 'CONCORDIA_TESTCONTAINERS turns containers off' };
  }
  if (docker) return { db, kind: 'testcontainers', reason: `no ${variable}, and a Docker engine is reachable` };
  return { db, kind: 'loopback', url: LOOPBACK_URLS[db], reason: `no ${variable} and no Docker engine` };
}
