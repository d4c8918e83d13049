import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    // Decides where PostgreSQL and MariaDB come from (URL, testcontainers or loopback) once per run.
    globalSetup: ['spec/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CI must not pass on a forgotten `.only`.
    allowOnly: !process.env['CI'],
  },
});
