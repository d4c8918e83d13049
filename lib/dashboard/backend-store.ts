/**
 * The {@link DashboardStore} of a client: each read and action runs one backend method on the
 * adapter's autocommit executor (never the caller's transaction), with the client's clock.
 *
 * The inspection methods of the design note arrive in the dialects separately; until a backend
 * has one, the call throws {@link NotAvailableError} (the handler answers 501) rather than
 * guessing. Where an older method answers the same question exactly, it stands in:
 * `countJobs` for the overview counts, and the one-job `retry` and `cancel` for actions on ids
 * (the older `retry` leaves completed jobs alone).
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { Backend } from '../backend/backend.ts';
import type { DashboardStore, JobAction, JobTarget, QueueStateCount } from './dashboard-store.ts';
import { NotAvailableError } from './not-available-error.ts';

/** The backend's name of each action (the HTTP API writes them in kebab case). */
const DIALECT_ACTIONS: Readonly<Record<JobAction, string>> = { retry: 'retry', cancel: 'cancel', discard: 'discard', delete: 'delete', 'run-now': 'runNow' };

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/** The backend's method `name`, bound, or undefined when it has none. */
function methodOf(backend: Backend, name: string): AnyMethod | undefined {
  const method = (backend as unknown as Record<string, unknown>)[name];
  return typeof method === 'function' ? (method as AnyMethod).bind(backend) : undefined;
}

/** The backend's method `name`, or a {@link NotAvailableError}. */
function required(backend: Backend, name: string): AnyMethod {
  const method = methodOf(backend, name);
  if (!method) throw new NotAvailableError(name, backend.name);
  return method;
}

/**
 * The dashboard's storage on `jobs`'s backend and adapter.
 *
 * @internal
 */
export function backendStore(jobs: Jobs<unknown>): DashboardStore {
  const backend = jobs.backend;
  const ex = (): unknown => jobs.adapter.autocommit();
  const now = () => jobs.clock.sqlNow();
  const apply = async (action: JobAction, target: JobTarget): Promise<string[]> => {
    const applyAction = methodOf(backend, 'applyAction');
    if (applyAction) return (await applyAction(jobs.dispatcherDb(), DIALECT_ACTIONS[action], target, now())) as string[];
    if ('ids' in target && (action === 'retry' || action === 'cancel')) {
      const changed: string[] = [];
      for (const id of target.ids) {
        const done = action === 'retry' ? (await backend.retry(ex(), id, now())).retried : await backend.cancel(ex(), id, now());
        if (done) changed.push(id);
      }
      return changed;
    }
    throw new NotAvailableError('applyAction', backend.name);
  };
  return {
    async searchJobs(query) {
      return (await required(backend, 'searchJobs')(ex(), query)) as Awaited<ReturnType<DashboardStore['searchJobs']>>;
    },
    async countMatching(filter, options) {
      return (await required(backend, 'countMatching')(ex(), filter, options)) as Awaited<ReturnType<DashboardStore['countMatching']>>;
    },
    async jobDetail(id) {
      return (await required(backend, 'jobDetail')(ex(), id)) as Awaited<ReturnType<DashboardStore['jobDetail']>>;
    },
    async overviewCounts() {
      const overview = methodOf(backend, 'overviewCounts');
      // Exact counts by queue and state stand in: the same answer, without estimates on big tables.
      const counts = overview ? ((await overview(ex())) as QueueStateCount[]) : (await backend.countJobs(ex())).map((c) => ({ ...c, estimated: false }));
      // Pause markers (state `paused` on the SQL databases) are queue settings, shown by pausedQueues, not jobs.
      return counts.filter((c) => (c.state as string) !== 'paused');
    },
    async throughput(options) {
      return (await required(backend, 'throughput')(ex(), options)) as Awaited<ReturnType<DashboardStore['throughput']>>;
    },
    async runningJobs(limit) {
      return (await required(backend, 'runningJobs')(ex(), limit)) as Awaited<ReturnType<DashboardStore['runningJobs']>>;
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
