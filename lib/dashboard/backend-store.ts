/**
 * The {@link DashboardStore} of a client: each read and action runs one backend method on the
 * adapter's autocommit session (never the caller's transaction), with the client's clock. Every
 * backend has every method (the `Backend` contract requires them), so nothing here guesses.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { JobAction as BackendAction } from '../backend/inspection.ts';
import type { DashboardStore, JobAction, JobTarget, QueueStateCount } from './dashboard-store.ts';

/** The backend's name of each action (the HTTP API writes them in kebab case). */
const BACKEND_ACTIONS: Readonly<Record<JobAction, BackendAction>> = { retry: 'retry', cancel: 'cancel', discard: 'discard', delete: 'delete', 'run-now': 'runNow' };

/**
 * The dashboard's storage on `jobs`'s backend and adapter.
 *
 * @internal
 */
export function backendStore(jobs: Jobs<unknown>): DashboardStore {
  const backend = jobs.backend;
  const ex = (): unknown => jobs.adapter.autocommit();
  const now = () => jobs.clock.sqlNow();
  return {
    searchJobs: (query) => backend.searchJobs(ex(), query),
    countMatching: (filter, options) => backend.countMatching(ex(), filter, options),
    jobDetail: (id) => backend.jobDetail(ex(), id),
    async overviewCounts() {
      // Pause markers (state `paused` on the SQL databases) are queue settings, shown by pausedQueues, not jobs.
      return (await backend.overviewCounts(ex())).filter((c): c is QueueStateCount => c.state !== 'paused');
    },
    throughput: (options) => backend.throughput(ex(), options),
    runningJobs: (limit) => backend.runningJobs(ex(), limit),
    pausedQueues: () => jobs.pausedQueues(),
    // Through the client, which also tells this process's workers at once.
    setQueuePaused: (queue, paused) => (paused ? jobs.pauseQueue(queue) : jobs.resumeQueue(queue)),
    async act(action: JobAction, target: JobTarget) {
      const changed = await backend.applyAction(jobs.dispatcherDb(), BACKEND_ACTIONS[action], target, now());
      // A job made due now starts at once on this process's idle workers, not at their next poll.
      if (changed.length > 0 && (action === 'retry' || action === 'run-now')) jobs.wakeWorkers();
      return changed;
    },
  };
}
