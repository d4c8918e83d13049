/**
 * Whether a Redis server keeps jobs: read from its configuration (`CONFIG GET`) when a worker
 * starts, so a queue that could lose jobs on eviction or restart is never a surprise.
 *
 * @internal
 */
import { DurabilityError } from '../../errors.ts';
import type { RedisSession } from './redis-port.ts';

/**
 * What a worker does when the server could lose jobs: `'warn'` (the default) logs each risk
 * once at start, `'require'` refuses to start with a {@link DurabilityError}, `'ignore'` skips
 * the check (a cache-like queue where losing jobs is accepted, or a server checked elsewhere).
 */
export type RedisDurability = 'warn' | 'require' | 'ignore';

/** The settings the check reads; `save` is `''` when RDB snapshots are off. */
export interface RedisPersistenceConfig {
  appendonly: string;
  appendfsync: string;
  maxmemoryPolicy: string;
  save: string;
}

/** Each way `config` could lose jobs, as a sentence naming the setting and its fix; empty when none. */
export function durabilityRisks(config: RedisPersistenceConfig): string[] {
  const risks: string[] = [];
  if (config.maxmemoryPolicy !== 'noeviction') {
    risks.push(`Redis maxmemory-policy is '${config.maxmemoryPolicy}': when memory runs out the server may evict job keys; set it to 'noeviction' so writes fail instead.`);
  }
  const aof = config.appendonly === 'yes';
  const rdb = config.save.trim() !== '';
  if (!aof && !rdb) {
    risks.push('Redis keeps nothing on disk (appendonly no, save \'\'): every job is lost when the server restarts; turn on appendonly yes (appendfsync everysec).');
  } else if (!aof) {
    risks.push('Redis writes only RDB snapshots (appendonly no): jobs enqueued or finished since the last snapshot are lost if the server stops; turn on appendonly yes (appendfsync everysec).');
  } else if (config.appendfsync === 'no') {
    risks.push('Redis appendfsync is \'no\': the operating system decides when the append-only file reaches the disk, so a crash can lose the last seconds of jobs; use appendfsync everysec or always.');
  }
  return risks;
}

/** The value of one `CONFIG GET` reply, whether the client answers with a flat list or a map. */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (String(reply[i]) === name) return String(reply[i + 1]);
    return undefined;
  }
  if (reply !== null && typeof reply === 'object') {
    const value = (reply as Record<string, unknown>)[name];
    return value === undefined ? undefined : String(value);
  }
  return undefined;
}

/**
 * Reads the persistence settings and returns the warnings to log. Throws a
 * {@link DurabilityError} in `'require'` mode when there is a risk. A server that refuses
 * `CONFIG` (managed services rename or forbid it) gets one warning saying the check was skipped,
 * in every mode: its persistence is set in the provider's console, where this cannot look.
 */
export async function checkDurability(s: RedisSession, mode: RedisDurability): Promise<string[]> {
  if (mode === 'ignore') return [];
  const config: Partial<RedisPersistenceConfig> = {};
  try {
    // One CONFIG GET per name: several patterns in one call need Redis 7.
    const names = [['appendonly', 'appendonly'], ['appendfsync', 'appendfsync'], ['maxmemory-policy', 'maxmemoryPolicy'], ['save', 'save']] as const;
    for (const [name, field] of names) {
      const value = configValue(await s.port.command(['CONFIG', 'GET', name]), name);
      if (value === undefined) throw new Error(`CONFIG GET ${name} returned nothing`);
      config[field] = value;
    }
  } catch (error) {
    const reason = String((error as { message?: unknown } | null)?.message ?? error).split('\n')[0];
    return [`could not read the Redis persistence settings (${reason}), so Concordia cannot tell whether jobs survive a restart or memory pressure; check appendonly, appendfsync and maxmemory-policy (noeviction) with your provider, or pass durability: 'ignore' to skip this check.`];
  }
  const risks = durabilityRisks(config as RedisPersistenceConfig);
  if (mode === 'require' && risks.length > 0) {
    throw new DurabilityError(`This Redis server could lose jobs, and the adapter was created with durability: 'require':\n- ${risks.join('\n- ')}`, risks);
  }
  return risks;
}
