/**
 * The {@link DashboardStore} of a client: each read and action runs one dialect method on the
 * adapter's autocommit executor (never the caller's transaction), with the client's clock.
 *
 * The inspection methods of the design note arrive in the dialects separately; until a dialect
 * has one, the call throws {@link NotAvailableError} (the handler answers 501) rather than
 * guessing. Where an older method answers the same question exactly, it stands in:
 * `countJobs` for the overview counts, and the one-job `retry` and `cancel` for actions on ids
 * (the older `retry` leaves completed jobs alone).
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { Dialect } from '../dialects/dialect.ts';
import type { Executor } from '../sql/executor.ts';
import type { DashboardStore, JobAction, JobTarget, QueueStateCount } from './dashboard-store.ts';
import { NotAvailableError } from './not-available-error.ts';

/** The dialect's name of each action (the HTTP API writes them in kebab case). */
const DIALECT_ACTIONS: Readonly<Record<JobAction, string>> = { retry: 'retry', cancel: 'cancel', discard: 'discard', delete: 'delete', 'run-now': 'runNow' };

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/** The dialect's method `name`, bound, or undefined when it has none. */
function methodOf(dialect: Dialect, name: string): AnyMethod | undefined {
  const method = (dialect as unknown as Record<string, unknown>)[name];
  return typeof method === 'function' ? (method as AnyMethod).bind(dialect) : undefined;
}

/** The dialect's method `name`, or a {@link NotAvailableError}. */
function required(dialect: Dialect, name: string): AnyMethod {
  const method = methodOf(dialect, name);
  if (!method) throw new NotAvailableError(name, dialect.name);
  return method;
}

/**
 * The dashboard's storage on `jobs`'s dialect and adapter.
 *
 * @internal
 */
export function dialectStore(jobs: Jobs<unknown>): DashboardStore {
  const dialect = jobs.dialect;
  const ex = (): Executor => jobs.adapter.autocommit();
  const now = () => jobs.clock.sqlNow();
  const apply = async (action: JobAction, target: JobTarget): Promise<string[]> => {
    const applyAction = methodOf(dialect, 'applyAction');
    if (applyAction) return (await applyAction(jobs.dispatcherDb(), DIALECT_ACTIONS[action], target, now())) as string[];
    if ('ids' in target && (action === 'retry' || action === 'cancel')) {
      const changed: string[] = [];
      for (const id of target.ids) {
        const done = action === 'retry' ? (await dialect.retry(ex(), id, now())).retried : await dialect.cancel(ex(), id, now());
        if (done) changed.push(id);
      }
      return changed;
    }
    throw new NotAvailableError('applyAction', dialect.name);
  };
  return {
    async searchJobs(query) {
      return (await required(dialect, 'searchJobs')(ex(), query)) as Awaited<ReturnType<DashboardStore['searchJobs']>>;
    },
    async countMatching(filter, options) {
      return (await required(dialect, 'countMatching')(ex(), filter, options)) as Awaited<ReturnType<DashboardStore['countMatching']>>;
    },
    async jobDetail(id) {
      return (await required(dialect, 'jobDetail')(ex(), id)) as Awaited<ReturnType<DashboardStore['jobDetail']>>;
    },
    async overviewCounts() {
      const overview = methodOf(dialect, 'overviewCounts');
      // Exact counts by queue and state stand in: the same answer, without estimates on big tables.
      const counts = overview ? ((await overview(ex())) as QueueStateCount[]) : (await dialect.countJobs(ex())).map((c) => ({ ...c, estimated: false }));
      // Pause markers (state `paused` on the SQL databases) are queue settings, shown by pausedQueues, not jobs.
      return counts.filter((c) => (c.state as string) !== 'paused');
    },
    async throughput(options) {
      return (await required(dialect, 'throughput')(ex(), options)) as Awaited<ReturnType<DashboardStore['throughput']>>;
    },
    async runningJobs(limit) {
      return (await required(dialect, 'runningJobs')(ex(), limit)) as Awaited<ReturnType<DashboardStore['runningJobs']>>;
    },
    pausedQueues: () => jobs.pausedQueues(),
    // Through the client, which also tells this process's workers at once.
    setQueuePaused: (queue, paused) => (paused ? jobs.pauseQueue(queue) : jobs.resumeQueue(queue)),
    async act(action: JobAction, target: JobTarget) {
      const changed = await apply(action, target);
      // A job made due now starts at once on this process's idle workers, not at their next poll.
      if (changed.length > 0 && (action === 'retry' || action === 'run-now')) jobs.wakeWorkers();
      return changed;
    },
  };
}
