/**
 * Where the suite's PostgreSQL and MariaDB come from. No machine here has a Docker engine, so
 * the container branch is tested through the pure decision, not by starting containers.
 */
import { describe, expect, test } from 'vitest';
import { chooseDatabaseSource, dockerReachable, LOOPBACK_URLS } from '../support/database-source.ts';

describe('where the spec databases come from', () => {
  test('a configured URL wins over Docker, CI and the loopback default', () => {
    const env = { CONCORDIA_PG_URL: 'postgres://u@db:5433/x', CI: 'true', DOCKER_HOST: 'tcp://d:2375' };
    expect(chooseDatabaseSource('postgres', env, true)).toMatchObject({ kind: 'env', url: 'postgres://u@db:5433/x' });
    expect(chooseDatabaseSource('mysql', { CONCORDIA_MYSQL_URL: 'mysql://r@m/t' }, true)).toMatchObject({ kind: 'env', url: 'mysql://r@m/t' });
  });

  test('each database is decided on its own: one URL set, the other from a container', () => {
    const env = { CONCORDIA_PG_URL: 'postgres://u@db/x' };
    expect(chooseDatabaseSource('postgres', env, true).kind).toBe('env');
    expect(chooseDatabaseSource('mysql', env, true).kind).toBe('testcontainers');
  });

  test('no URL and a reachable Docker engine: testcontainers', () => {
    expect(chooseDatabaseSource('postgres', {}, true).kind).toBe('testcontainers');
    expect(chooseDatabaseSource('mysql', { CI: 'false' }, true).kind).toBe('testcontainers');
  });

  test('no URL and no Docker engine: the loopback default', () => {
    expect(chooseDatabaseSource('postgres', {}, false)).toMatchObject({ kind: 'loopback', url: LOOPBACK_URLS.postgres });
    expect(chooseDatabaseSource('mysql', {}, false)).toMatchObject({ kind: 'loopback', url: LOOPBACK_URLS.mysql });
  });

  test('CI uses the machine\'s own services even where Docker is reachable', () => {
    expect(chooseDatabaseSource('postgres', { CI: 'true' }, true)).toMatchObject({ kind: 'loopback', url: LOOPBACK_URLS.postgres });
    expect(chooseDatabaseSource('mysql', { CI: '1' }, true).kind).toBe('loopback');
  });

  test('CONCORDIA_TESTCONTAINERS=0 keeps the loopback servers where Docker is reachable', () => {
    for (const off of ['0', 'false', 'off']) {
      expect(chooseDatabaseSource('postgres', { CONCORDIA_TESTCONTAINERS: off }, true).kind).toBe('loopback');
    }
  });

  test('an empty URL variable counts as unset', () => {
    expect(chooseDatabaseSource('postgres', { CONCORDIA_PG_URL: '' }, false).kind).toBe('loopback');
  });

  test('Docker counts as reachable through DOCKER_HOST or an existing socket', () => {
    const none = (): boolean => false;
    expect(dockerReachable({}, none)).toBe(false);
    expect(dockerReachable({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, none)).toBe(true);
    expect(dockerReachable({}, (p) => p === '/var/run/docker.sock')).toBe(true);
    expect(dockerReachable({ XDG_RUNTIME_DIR: '/run/user/1000' }, (p) => p === '/run/user/1000/docker.sock')).toBe(true);
    expect(dockerReachable({ HOME: '/home/me' }, (p) => p === '/home/me/.docker/run/docker.sock')).toBe(true);
  });
});
