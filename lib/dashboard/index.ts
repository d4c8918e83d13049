/**
 * The web dashboard: counts, job search and detail, operator actions, queue pause/resume, the
 * cron view and live updates, as one handler you mount in your own app at any path. See the
 * README, "Dashboard", for mounting and the security model.
 *
 * @module concordia/dashboard
 */
export { createDashboard, type Dashboard, type DashboardRequestContext } from './create-dashboard.ts';
export { toNodeHandler, type NodeHandler, type NodeHandlerOptions } from './node-handler.ts';
export type { DashboardOptions, DashboardEventsOptions, DashboardPrincipal, DashboardAuditEvent, PrincipalSwitch } from './dashboard-options.ts';
export type {
  DashboardStore,
  JobFilter,
  JsonPathMatch,
  JobSummary,
  JobPage,
  JobDetail,
  QueueStateCount,
  ThroughputBucket,
  RunningJob,
  JobAction,
  JobTarget,
  BoundedCount,
} from './dashboard-store.ts';
export type { DashboardErrorCode } from './http-error.ts';
export type { ShownText, ShownError, ShownJobDetail } from './shown-payload.ts';
export type { CronEntry } from './cron-view.ts';
export type { CountsSnapshot } from './counts-feed.ts';
