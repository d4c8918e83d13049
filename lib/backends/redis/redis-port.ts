/**
 * What the Redis backend needs from a Redis client, so one backend serves ioredis and node-redis:
 * each adapter implements these two small ports over its client.
 *
 * @internal Not semver-stable.
 */
import { createHash } from 'node:crypto';

/** A Lua script the backend runs, with its SHA-1 for EVALSHA. */
export interface RedisScript {
  /** For logs and errors, e.g. `claim`. */
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** A value as the backend passes it to a script or command. */
export type RedisArg = string | number;

/** A connection (or pool) on which each call runs at once, outside any MULTI. */
export interface RedisPort {
  /** Runs `script` with EVALSHA, sending its text with EVAL when the server does not have it cached. */
  run(script: RedisScript, keys: readonly string[], args: readonly RedisArg[]): Promise<unknown>;
  /** Runs one command, e.g. `['SMEMBERS', key]`. */
  command(args: readonly RedisArg[]): Promise<unknown>;
}

/** The user's MULTI: commands are queued now and run, all together, at their EXEC. */
export interface RedisMultiPort {
  /**
   * Queues `script` with EVAL and its full text. Never EVALSHA: a script missing from the
   * server's cache would fail at EXEC while the user's own commands still apply (Redis does not
   * roll a MULTI back), and the job would be lost without an error anyone checks.
   */
  queue(script: RedisScript, keys: readonly string[], args: readonly RedisArg[]): void;
  /** Calls `fn` once the MULTI has ended: after its EXEC settled, or on DISCARD. */
  onEnd(fn: () => void): void;
}

/**
 * The Redis backend's session: a port for reads and immediate writes, and the user's MULTI when
 * the session is bound to one (enqueues then queue their write in it).
 */
export interface RedisSession {
  /** @internal */
  readonly port: RedisPort;
  /** @internal */
  readonly multi: RedisMultiPort | null;
}

/**
 * Builds a script definition; the SHA-1 is what EVALSHA names it by. Indentation, blank lines
 * and whole-line comments are left out of the text sent: an enqueue inside a MULTI sends its
 * script in full each time, and the server hashes all of it. (No script has a multi-line string.)
 */
export function defineScript(name: string, source: string): RedisScript {
  const text = source
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('--'))
    .join('\n');
  return { name, source: text, sha: createHash('sha1').update(text).digest('hex') };
}

/** Whether a Redis error says the server lacks a cached script (then EVAL sends it). */
export function isNoScript(error: unknown): boolean {
  return /NOSCRIPT/.test(String((error as { message?: unknown } | null)?.message ?? error));
}
