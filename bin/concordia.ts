#!/usr/bin/env node
/**
 * The `concordia` binary: `schema`, `status`, `list`, `cancel`, `retry`, `prune` and `dashboard`. See
 * `concordia --help` and the README's CLI section; the logic lives in `bin/cli/`.
 *
 * @module
 */
import { runCli } from './cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
});
