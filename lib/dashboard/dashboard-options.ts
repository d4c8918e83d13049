/**
 * The options of `createDashboard`, the principal the auth hook returns, and the audit events.
 *
 * @module
 */
import type { Jobs } from '../client.ts';
import type { PeriodicJob } from '../cron/periodic-job.ts';
import type { Logger } from '../logger.ts';
import type { JobAction, JobFilter } from './dashboard-store.ts';

/**
 * Who is using the dashboard, as {@link DashboardOptions.authorize} tells it: a user name, or an
 * object with a stable `id` (and, optionally, a display `name`). The id is what the CSRF token
 * is bound to and what audit events carry.
 */
export type DashboardPrincipal = string | { readonly id: string; readonly name?: string };

/** A per-principal switch: a fixed answer, or a function of the principal. */
export type PrincipalSwitch = boolean | ((principal: DashboardPrincipal) => boolean);

/**
 * One operator action, given to {@link DashboardOptions.onAudit} once it has been carried out.
 * `changed` lists the job ids the action changed (jobs in a state the action does not apply to
 * are left alone); for a queue, whether the call changed its paused flag.
 */
export type DashboardAuditEvent =
  | {
      readonly target: 'jobs';
      readonly action: JobAction;
      readonly principal: DashboardPrincipal;
      /** The ids the operator picked, for an action on a selection. */
      readonly ids?: readonly string[];
      /** The filter, and the most jobs it may change, for an action on everything matching it. */
      readonly filter?: JobFilter;
      readonly max?: number;
      readonly changed: readonly string[];
      readonly at: Date;
    }
  | {
      readonly target: 'queue';
      readonly action: 'pause' | 'resume';
      readonly principal: DashboardPrincipal;
      readonly queue: string;
      readonly changed: boolean;
      readonly at: Date;
    };

/** Options of the live updates (`GET /api/events`). */
export interface DashboardEventsOptions {
  /**
   * How often the counts are read to find changes. Default 2,000 ms; on PostgreSQL with an
   * adapter that can LISTEN, enqueues are pushed at once and the counts are read every 5,000 ms
   * for the other changes (jobs finishing), unless this is given.
   */
  pollIntervalMs?: number;
  /** How often an idle stream sends a comment line, so proxies keep it open. Default 15,000 ms. */
  heartbeatMs?: number;
}

/** Options of `createDashboard`. */
export interface DashboardOptions {
  /** The application's Concordia client: the dashboard uses its adapter, table and clock. */
  jobs: Jobs<unknown>;
  /**
   * The path the dashboard is mounted at, such as `/admin/jobs`, chosen at run time. Requests
   * may arrive with it (it is taken off) or already without it (frameworks that strip the mount
   * path). Default: given per request by `toNodeHandler` (Express's `req.baseUrl`), else `/`.
   */
  basePath?: string;
  /**
   * Decides who may use the dashboard, for every request: return the principal, `null` to
   * refuse (401), or a `Response` to send instead (a redirect to your login page, a
   * `WWW-Authenticate` challenge). Default: everyone is allowed as `anonymous`, and a warning
   * is logged once, since a dashboard can cancel and delete jobs.
   */
  authorize?: (request: Request) => DashboardPrincipal | null | Response | Promise<DashboardPrincipal | null | Response>;
  /** Refuse every state-changing request (403 `READ_ONLY`). Default false. */
  readOnly?: PrincipalSwitch;
  /** Show job args and metadata in the job detail. Default false: they often hold personal data. */
  showArgs?: PrincipalSwitch;
  /**
   * Applied to every args and metadata text, error message and stack before it leaves the
   * server (for example to mask tokens or e-mail addresses). Default: unchanged.
   */
  redact?: (text: string) => string;
  /** Called after every action with what it changed and who asked; awaited, and its failures logged. */
  onAudit?: (event: DashboardAuditEvent) => void | Promise<void>;
  /** The periodic jobs to show in the cron view (the same definitions the workers run). */
  periodic?: readonly PeriodicJob[];
  /**
   * The key the CSRF tokens are signed with (at least 32 bytes). Default: random per process,
   * so tokens stop working at a restart (the page fetches a new one). Give the same secret to
   * every instance behind a load balancer that does not keep a user on one instance.
   */
  csrfSecret?: string | Uint8Array;
  /** A read that takes longer is answered with 503 `TIMEOUT`. Default 10,000 ms. */
  statementTimeoutMs?: number;
  /** Live updates. */
  events?: DashboardEventsOptions;
  /** Where warnings and errors go. Default: the console. */
  logger?: Logger;
}
