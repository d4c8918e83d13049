/**
 * `GET /api/cron`: the periodic jobs the app gave the dashboard, with their next slots computed
 * from the same schedules the workers use, and the job of the latest slot where storage can
 * find it (by the `periodic` metadata key every slot's job carries).
 *
 * @module
 */
import type { PeriodicJob } from '../cron/periodic-job.ts';
import { InvalidOptionError } from '../errors.ts';
import type { DashboardStore, JobSummary } from './dashboard-store.ts';

/** How many upcoming slots each periodic job lists. */
export const NEXT_SLOTS = 5;

/** One periodic job as the cron view shows it. */
export interface CronEntry {
  name: string;
  schedule: string;
  kind: string;
  queue: string;
  /** The latest slot at or before now. */
  previous: string;
  /** The next five slots after now, in order. */
  next: string[];
  /** The newest job enqueued by this periodic job, when storage can search by metadata; else null. */
  lastJob: JobSummary | null;
}

/** Checks the `periodic` option: definitions from `periodic()`, each name once. */
export function checkPeriodic(value: unknown): readonly PeriodicJob[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('createDashboard: `periodic` must be an array of periodic(…) definitions.');
  const names = new Set<string>();
  for (const def of value as PeriodicJob[]) {
    if (!def || typeof def.name !== 'string' || typeof def.schedule?.slotAfter !== 'function' || typeof def.request?.kind !== 'string') {
      throw new InvalidOptionError('createDashboard: every entry of `periodic` must come from periodic().');
    }
    if (names.has(def.name)) throw new InvalidOptionError(`createDashboard: periodic job "${def.name}" is given twice.`);
    names.add(def.name);
  }
  return [...(value as PeriodicJob[])];
}

async function lastJobOf(store: DashboardStore, def: PeriodicJob): Promise<JobSummary | null> {
  const page = await store.searchJobs({ filter: { kinds: [def.request.kind], metadata: [{ path: ['periodic'], value: def.name }] }, limit: 1 });
  return page.jobs[0] ?? null;
}

export async function cronView(defs: readonly PeriodicJob[], store: DashboardStore, nowMs: number, defaultQueue: string): Promise<{ periodic: CronEntry[] }> {
  const entries = await Promise.all(
    defs.map(async (def): Promise<CronEntry> => {
      const next: string[] = [];
      let at = nowMs;
      for (let i = 0; i < NEXT_SLOTS; i++) {
        at = def.schedule.slotAfter(at);
        next.push(new Date(at).toISOString());
      }
      return {
        name: def.name,
        schedule: def.schedule.text,
        kind: def.request.kind,
        queue: def.options.queue ?? def.request.definition.defaults.queue ?? defaultQueue,
        previous: new Date(def.schedule.slotAtOrBefore(nowMs)).toISOString(),
        next,
        lastJob: await lastJobOf(store, def),
      };
    }),
  );
  return { periodic: entries };
}
