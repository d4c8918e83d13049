/**
 * The Redis backend: jobs as hashes with sorted-set indexes (layout in scripts/prelude.ts), every
 * state change one Lua script call, so each is atomic on the server. Enqueues join the user's
 * MULTI; the dispatcher's claims, completions, heartbeats and rescues are batched script calls.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Backend, ClaimParams, DispatcherAccess, FailParams, JobCount, ListedJob, ListJobsFilter, PruneParams, RetryResult } from '../../backend/backend.ts';
import type { BackendCapabilities } from '../../backend/capabilities.ts';
import type * as Inspection from '../../backend/inspection.ts';
import { StateError } from '../../errors.ts';
import { DEFAULT_BATCH_BYTES } from '../../insert-batches.ts';
import type { ClaimedJob, Fence, InsertRow, JobState, UniqueInsertResult, UniqueInsertRow } from '../../job.ts';
import { checkDurability, type RedisDurability } from './redis-durability.ts';
import { RedisInspection } from './redis-inspection.ts';
import type { RedisArg, RedisMultiPort, RedisSession } from './redis-port.ts';
import { claimScript } from './scripts/claim.ts';
import { completeScript, extendScript, failScript, releaseScript, rescueScript } from './scripts/finish.ts';
import { insertScript, insertUniqueScript, releaseUniqueScript, reserveUniqueScript } from './scripts/insert.ts';
import { cancelScript, pauseScript, pruneScript, retryScript } from './scripts/operator.ts';
import { isUuidV7, uuidV7 } from '../../uuid-v7.ts';

type DispatcherDb = DispatcherAccess<RedisSession>;

/** What the Redis backend can do (see docs/design/backends.md). */
const REDIS_CAPABILITIES: BackendCapabilities = {
  transactionalEnqueue: true,
  // A MULTI cannot be rolled back when a handler's fence fails at EXEC, so a handler's writes
  // and its completion cannot be made all-or-nothing: `transactional: true` kinds are refused.
  transactionalCompletion: false,
  // Several scripts queued in one MULTI are not undone together if a later one fails at EXEC.
  atomicBatches: false,
  syncEnqueue: false,
  wakeups: 'listen',
  ids: 'client',
};

/**
 * How long a unique key reserved by an open MULTI keeps others waiting when that MULTI is never
 * sent nor discarded (dropped by its caller): past this, another caller may take the key.
 */
const UNIQUE_RESERVATION_MS = 60_000;

/** `now` as a script argument: epoch ms, or '' for the server's clock. */
function nowArg(now: Date | null): string {
  return now === null ? '' : String(now.getTime());
}

function rowArgs(r: InsertRow, id: string): RedisArg[] {
  return [id, r.queue, r.kind, r.argsJson, r.priority, r.maxAttempts, r.runAt ? r.runAt.getTime() : '', r.delayMs, r.metadataJson ?? ''];
}

function fenceArgs(fences: readonly Fence[]): string[] {
  return fences.flatMap((f) => [f.id, f.token]);
}

/** The prefix of every key of one jobs table: a hash tag, so all of them share one Cluster slot. */
export function redisPrefix(table: string): string {
  return `{${table}}`;
}

export class RedisBackend implements Backend<RedisSession> {
  readonly name = 'redis';
  readonly capabilities = REDIS_CAPABILITIES;
  /** Pub/sub channel of enqueue wake-ups: each message is one queue name. */
  readonly channel: string;
  readonly prefix: string;
  readonly #keys: string[];
  readonly #inspection: RedisInspection;
  /** The reservation token of each open MULTI that reserved a unique key. */
  readonly #tokens = new WeakMap<RedisMultiPort, string>();
  readonly #durability: RedisDurability;

  constructor(table: string, options: { notify?: boolean; durability?: RedisDurability } = {}) {
    this.#durability = options.durability ?? 'warn';
    this.prefix = redisPrefix(table);
    this.#keys = [this.prefix];
    // Enqueue scripts always publish (a message nobody hears costs nothing); `notify: false` only
    // stops workers from listening.
    this.channel = options.notify === false ? '' : `${this.prefix}:wake`;
    this.#inspection = new RedisInspection(this.prefix);
  }

  isJobId(text: string): boolean {
    return isUuidV7(text);
  }

  async insert(s: RedisSession, rows: readonly InsertRow[], now: Date | null): Promise<string[]> {
    const t = now?.getTime() ?? Date.now();
    const ids = rows.map(() => uuidV7(t));
    const args: RedisArg[] = [nowArg(now), rows.length, ...rows.flatMap((r, i) => rowArgs(r, ids[i]!))];
    if (s.multi) s.multi.queue(insertScript, this.#keys, args);
    else await s.port.run(insertScript, this.#keys, args);
    return ids;
  }

  async maxBatchBytes(_s: RedisSession): Promise<number> {
    // A Redis bulk string may be 512 MB; one script call should stay far smaller.
    return DEFAULT_BATCH_BYTES;
  }

  atomic<T>(_s: RedisSession, _name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async insertUnique(s: RedisSession, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    const id = uuidV7(now?.getTime() ?? Date.now());
    // One token per MULTI (or per autocommit call): a second enqueue of the key in the same MULTI
    // finds its own reservation and is told about the first job.
    let token = s.multi ? this.#tokens.get(s.multi) : undefined;
    if (token === undefined) {
      token = randomUUID();
      if (s.multi) this.#tokens.set(s.multi, token);
    }
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      const [outcome, other] = (await s.port.run(reserveUniqueScript, this.#keys, [row.uniqueKey, token, id, UNIQUE_RESERVATION_MS])) as [string, string];
      if (outcome === 'held' || outcome === 'mine') return { inserted: false, id: String(other) };
      if (outcome === 'reserved') break;
      // Another open MULTI holds the key: wait for its EXEC or DISCARD (or the reservation's expiry).
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const args: RedisArg[] = [nowArg(now), 1, ...rowArgs(row, id), row.uniqueKey, row.uniqueStates, token];
    if (s.multi) {
      s.multi.queue(insertUniqueScript, this.#keys, args);
      const key = row.uniqueKey;
      const held = token;
      s.multi.onEnd(() => void s.port.run(releaseUniqueScript, this.#keys, [key, held]).catch(() => {}));
      return { inserted: true, id };
    }
    const [inserted, holder] = (await s.port.run(insertUniqueScript, this.#keys, args)) as [number, string];
    return inserted === 1 ? { inserted: true, id } : { inserted: false, id: String(holder) };
  }

  insertUniqueAutocommit(db: DispatcherDb, row: UniqueInsertRow, now: Date | null): Promise<UniqueInsertResult> {
    return this.insertUnique(db.autocommit, row, now);
  }

  async claim(db: DispatcherDb, p: ClaimParams): Promise<ClaimedJob[]> {
    // ZRANGE 0 -1 would read a whole queue: a claim of nothing never reaches the server.
    if (p.limit <= 0 || p.queues.length === 0) return [];
    // One random base per claim; the script makes each job's token `<base>.<n>`, unique per run
    // and as unguessable as the base (a claim asks for up to ~1,000 jobs, most of whose tokens
    // would otherwise be drawn and sent for nothing).
    const args: RedisArg[] = [nowArg(p.now), p.limit, p.workerId, p.leaseMs, p.queues.length, ...p.queues, randomUUID()];
    const rows = (await db.autocommit.port.run(claimScript, this.#keys, args)) as unknown[][];
    return rows.map((r) => ({
      id: String(r[0]),
      queue: String(r[1]),
      kind: String(r[2]),
      args: String(r[3]),
      metadata: r[4] === '' || r[4] === null ? null : String(r[4]),
      attempt: Number(r[5]),
      maxAttempts: Number(r[6]),
      priority: Number(r[7]),
      runAt: new Date(Number(r[8])),
      createdAt: new Date(Number(r[9])),
      leaseToken: String(r[10]),
    }));
  }

  async complete(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<Set<string>> {
    if (fences.length === 0) return new Set();
    const done = (await db.autocommit.port.run(completeScript, this.#keys, [nowArg(now), ...fenceArgs(fences)])) as string[];
    return new Set(done.map(String));
  }

  async pausedQueues(s: RedisSession): Promise<string[]> {
    return ((await s.port.command(['SMEMBERS', `${this.prefix}:paused`])) as string[]).map(String).sort();
  }

  async setQueuePaused(s: RedisSession, queue: string, paused: boolean): Promise<boolean> {
    return Number(await s.port.run(pauseScript, this.#keys, [queue, paused ? '1' : '0'])) === 1;
  }

  async completeWithin(): Promise<boolean> {
    throw new StateError('The Redis backend cannot complete a job inside a handler\'s MULTI (Redis does not roll a MULTI back): define the job without `transactional: true`.');
  }

  async fail(db: DispatcherDb, p: FailParams): Promise<boolean> {
    const args = [nowArg(p.now), p.id, p.token, p.to, p.delayMs, p.errorJson ?? '', p.refundAttempt ? '1' : '0', p.retried ? '1' : '0'];
    return Number(await db.autocommit.port.run(failScript, this.#keys, args)) === 1;
  }

  async release(db: DispatcherDb, fences: readonly Fence[], now: Date | null): Promise<number> {
    if (fences.length === 0) return 0;
    return Number(await db.autocommit.port.run(releaseScript, this.#keys, [nowArg(now), ...fenceArgs(fences)]));
  }

  async extendLeases(db: DispatcherDb, fences: readonly Fence[], leaseMs: number, now: Date | null): Promise<Set<string>> {
    if (fences.length === 0) return new Set();
    const held = (await db.autocommit.port.run(extendScript, this.#keys, [nowArg(now), leaseMs, ...fenceArgs(fences)])) as string[];
    return new Set(held.map(String));
  }

  async rescue(db: DispatcherDb, errorJson: string, limit: number, now: Date | null): Promise<number> {
    return Number(await db.autocommit.port.run(rescueScript, this.#keys, [nowArg(now), errorJson, limit]));
  }

  async prune(db: DispatcherDb, p: PruneParams): Promise<number> {
    return Number(await db.autocommit.port.run(pruneScript, this.#keys, [nowArg(p.now), p.state, p.olderThanMs, p.limit]));
  }

  async cancel(s: RedisSession, id: string, now: Date | null): Promise<boolean> {
    return Number(await s.port.run(cancelScript, this.#keys, [nowArg(now), id])) === 1;
  }

  /** Checks the server version, then its persistence settings (see redis-durability.ts); returns the warnings to log. */
  async verify(s: RedisSession): Promise<string[]> {
    const version = String(await s.port.command(['INFO', 'server'])).match(/redis_version:(\d+)\.(\d+)/);
    if (version && Number(version[1]) < 6) {
      throw new StateError(`Concordia needs Redis 6.2 or later; this server is ${version[1]}.${version[2]}.`);
    }
    return checkDurability(s, this.#durability);
  }

  async retry(s: RedisSession, id: string, now: Date | null): Promise<RetryResult> {
    const [retried, state] = (await s.port.run(retryScript, this.#keys, [nowArg(now), id])) as [number, string | undefined];
    return { retried: retried === 1, state: state === undefined || state === null ? null : (String(state) as JobState) };
  }

  // --- Inspection: redis-inspection.ts.

  listJobs(s: RedisSession, filter: ListJobsFilter): Promise<ListedJob[]> {
    return this.#inspection.listJobs(s, filter);
  }
  countJobs(s: RedisSession): Promise<JobCount[]> {
    return this.#inspection.countJobs(s);
  }
  searchJobs(s: RedisSession, params: Inspection.SearchJobsParams): Promise<Inspection.JobPage> {
    return this.#inspection.searchJobs(s, params);
  }
  countMatching(s: RedisSession, filter: Inspection.JobFilter, options: { max: number }): Promise<Inspection.MatchCount> {
    return this.#inspection.countMatching(s, filter, options);
  }
  jobDetail(s: RedisSession, id: string): Promise<Inspection.JobDetail | null> {
    return this.#inspection.jobDetail(s, id);
  }
  overviewCounts(s: RedisSession, options?: Inspection.OverviewOptions): Promise<Inspection.OverviewCount[]> {
    return this.#inspection.overviewCounts(s, options);
  }
  throughput(s: RedisSession, params: Inspection.ThroughputParams): Promise<Inspection.ThroughputBucket[]> {
    return this.#inspection.throughput(s, params);
  }
  runningJobs(s: RedisSession, limit: number): Promise<Inspection.RunningJob[]> {
    return this.#inspection.runningJobs(s, limit);
  }
  applyAction(db: DispatcherDb, action: Inspection.JobAction, target: Inspection.JobTarget, now: Date | null): Promise<string[]> {
    return this.#inspection.applyAction(db, action, target, now);
  }
}
