/**
 * The dashboard endpoints the dashboard-reads case measures, shared by the case and the report
 * (which must not load the engine to print a table).
 */
import { COMMON_KIND, RARE_KIND } from './dashboard-fill.ts';

/** One endpoint as a user reaches it: a path under the base, or one built from an earlier answer. */
export interface Endpoint {
  key: string;
  label: string;
  path: (ctx: { next: string | null; someId: string }) => string;
  /** Its statements are explained (lists, counts, detail); the overview's only its slowest. */
  explainAll: boolean;
  /** Each request goes to a new dashboard, so nothing the dashboard keeps between requests answers it. */
  fresh?: boolean;
}

/** The endpoints, in the order the report lists them. Keys are the result's field names. */
export const DASHBOARD_ENDPOINTS: readonly Endpoint[] = [
  { key: 'overview', label: 'overview (`api/overview`); reads with: its slowest statement', path: () => 'api/overview', explainAll: false },
  // The page fetches it after first paint; the dashboard serves one read for 60 s, so this is the
  // read a request makes once a minute at most (a new dashboard per request: never from its cache).
  { key: 'throughput', label: 'throughput (`api/throughput`), a read past the 60 s cache', path: () => 'api/throughput', explainAll: true, fresh: true },
  { key: 'list', label: 'jobs list, first page, no filter', path: () => 'api/jobs', explainAll: true },
  { key: 'listState', label: 'list by state (discarded)', path: () => 'api/jobs?state=discarded', explainAll: true },
  { key: 'listPage2', label: 'list by state, second page (`cursor` = `next`)', path: ({ next }) => `api/jobs?state=discarded&cursor=${next ?? ''}`, explainAll: true },
  // A page deep in a large state, as a link holding an old cursor opens it.
  { key: 'listDeepPage', label: 'list by state, a page from mid-history (completed, `cursor` = a mid-table id)', path: ({ someId }) => `api/jobs?state=completed&cursor=${someId}`, explainAll: true },
  { key: 'listQueueState', label: 'list by queue + state (reports, completed)', path: () => 'api/jobs?queue=reports&state=completed', explainAll: true },
  { key: 'listStates', label: 'list by two states (discarded, cancelled)', path: () => 'api/jobs?state=discarded,cancelled', explainAll: true },
  { key: 'listKindCommon', label: `list by kind, common (${COMMON_KIND}, 40 %)`, path: () => `api/jobs?kind=${COMMON_KIND}`, explainAll: true },
  { key: 'listKindRare', label: `list by kind, rare (${RARE_KIND}, 0.01 %; a page scans at most 5,000 rows)`, path: () => `api/jobs?kind=${RARE_KIND}`, explainAll: true },
  { key: 'count', label: 'count, state (discarded; capped at 10,000)', path: () => 'api/jobs/count?state=discarded', explainAll: true },
  { key: 'countQueueState', label: 'count, queue + state (billing, cancelled)', path: () => 'api/jobs/count?queue=billing&state=cancelled', explainAll: true },
  { key: 'detail', label: 'job detail (`api/jobs/:id`)', path: ({ someId }) => `api/jobs/${someId}`, explainAll: true },
];
