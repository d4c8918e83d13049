/**
 * The job list: filters kept in the hash (`#/jobs?state=discarded&kind=…`, so a filtered view
 * is a link), keyset pages ("Load more" while the server gives a `next` cursor: a page can be
 * short and still have one), a selection, and bulk actions on the selection or on everything
 * matching the filter after a confirmation that shows how many jobs that is.
 *
 * A filter by kind, queue, created range or JSON path examines a bounded number of rows per page
 * (the server's scan budget, `scan=` in the link), so a rare kind can give a run of empty pages
 * that still have a `next`. The list follows such a run by itself, within a bound per user action
 * (see {@link FOLLOW_FETCHES}), so the user does not click "Load more" a hundred times to reach
 * the first match.
 */
import { currentSession, get, post, type JobSummary } from './api.ts';
import { button, h, showError, showNotice, when } from './dom.ts';

const STATES = ['available', 'running', 'completed', 'cancelled', 'discarded'];
export const ACTIONS = ['retry', 'cancel', 'discard', 'delete', 'run-now'] as const;
export type Action = (typeof ACTIONS)[number];
/**
 * The bound on following short pages after one user action (opening the list or "Load more"):
 * at most this many automatic fetches, or this long, whichever comes first. Past it the user
 * decides whether to keep looking, so an empty filter never keeps the database busy unattended.
 */
const FOLLOW_FETCHES = 20;
const FOLLOW_MS = 2_000;
const DEFAULT_LIMIT = 50;

interface Page {
  jobs: JobSummary[];
  next: string | null;
  /** The page's scan budget: a short page with a `next` looked through this many rows. */
  scanLimit?: number;
}

/** The filter of the API query as the JSON body of a bulk action by filter. */
export function filterJson(params: URLSearchParams): Record<string, unknown> {
  const list = (name: string) => params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const filter: Record<string, unknown> = {};
  if (list('state').length) filter['states'] = list('state');
  if (list('kind').length) filter['kinds'] = list('kind');
  if (list('queue').length) filter['queues'] = list('queue');
  const args = params.getAll('args').filter((v) => v.includes('='));
  if (args.length) {
    filter['args'] = args.map((condition) => {
      const cut = condition.indexOf('=');
      const text = condition.slice(cut + 1);
      let value: unknown = text;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed === null || ['string', 'number', 'boolean'].includes(typeof parsed)) value = parsed;
      } catch {
        // Not JSON: the text itself, as the query string reads it.
      }
      return { path: condition.slice(0, cut).split('.'), value };
    });
  }
  return filter;
}

function filterForm(params: URLSearchParams): HTMLFormElement {
  const state = h('select', { name: 'state', 'aria-label': 'State' }, h('option', { value: '' }, 'any state'), ...STATES.map((s) => h('option', { value: s, selected: params.get('state') === s }, s)));
  const input = (name: string, label: string, placeholder: string) => h('input', { name, 'aria-label': label, placeholder, value: params.getAll(name).join(',') || undefined });
  const form = h('form', { class: 'filters', id: 'filters' }, state, input('kind', 'Kind', 'kind'), input('queue', 'Queue', 'queue'), input('args', 'Args', 'args path=value'), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === 'string' && value.trim() !== '') next.append(name, value.trim());
    location.hash = `#/jobs?${next.toString()}`;
  });
  return form;
}

/**
 * Renders the list into `root`. `signal` ends the following of short pages when the user
 * navigates away (the router aborts it on every hash change).
 */
export async function renderJobs(root: HTMLElement, params: URLSearchParams, signal: AbortSignal): Promise<void> {
  const session = currentSession();
  const query = new URLSearchParams();
  for (const name of ['state', 'kind', 'queue', 'args', 'meta', 'from', 'to', 'limit', 'scan']) for (const v of params.getAll(name)) query.append(name, v);
  const selected = new Set<string>();
  const tbody = h('tbody', {});
  const more = h('div', { class: 'more' });
  const bar = h('div', { class: 'bulk', id: 'bulk' });
  const confirmBox = h('div', { class: 'confirm', id: 'confirm', hidden: true });
  const selectedCount = h('span', { id: 'selected-count' }, '0 selected');

  const updateSelection = () => {
    selectedCount.textContent = `${selected.size} selected`;
  };

  const addRows = (jobs: JobSummary[]) => {
    for (const job of jobs) {
      const box = h('input', { type: 'checkbox', 'aria-label': `Select job ${job.id}`, hidden: session.readOnly });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(job.id);
        else selected.delete(job.id);
        updateSelection();
      });
      tbody.append(
        h(
          'tr',
          { 'data-id': job.id, 'data-state': job.state },
          h('td', {}, box),
          h('td', {}, h('a', { href: `#/jobs/${job.id}` }, job.id)),
          h('td', {}, job.kind),
          h('td', {}, job.queue),
          h('td', { class: `state ${job.state}` }, job.state),
          h('td', { class: 'count' }, `${job.attempt}/${job.maxAttempts}`),
          h('td', {}, when(job.runAt)),
          h('td', {}, when(job.createdAt)),
          h('td', { class: 'error-line' }, job.lastError ?? ''),
        ),
      );
    }
  };

  const requested = Number(query.get('limit')) || DEFAULT_LIMIT;
  /** Rows looked through by short pages since the last one that held a job, for the note. */
  let searchedWithoutMatch = 0;

  /**
   * One user action's worth of pages: fetches from `cursor` and, while the pages come back short
   * with a `next` (the scan budget ran out, not the jobs), follows on until `requested` rows came,
   * the list ends, the bound is reached or the user navigated away.
   */
  const loadPage = async (cursor: string | null) => {
    const started = Date.now();
    let got = 0;
    let fetches = 0;
    let next = cursor;
    for (;;) {
      const q = new URLSearchParams(query);
      if (next) q.set('cursor', next);
      // Ask only for what the action still lacks, so a followed run never overfills the page.
      if (got > 0) q.set('limit', String(requested - got));
      let page: Page;
      try {
        page = await get<Page>(`api/jobs?${q.toString()}`);
      } catch (error) {
        // The action's own fetch failing is the caller's to show; a followed one failing leaves
        // "Load more" from the last cursor, so the rows already shown stay usable.
        if (fetches === 0 || signal.aborted) throw error;
        showError(error);
        break;
      }
      // A navigation happened during the fetch: this view is gone, leave its DOM alone.
      if (signal.aborted) return;
      fetches++;
      addRows(page.jobs);
      got += page.jobs.length;
      searchedWithoutMatch = page.jobs.length > 0 ? 0 : searchedWithoutMatch + (page.scanLimit ?? 0);
      next = page.next;
      const short = next !== null && got < requested;
      if (short && fetches <= FOLLOW_FETCHES && Date.now() - started < FOLLOW_MS) {
        more.replaceChildren(h('span', { class: 'muted', id: 'searching' }, searchingText()));
        continue;
      }
      break;
    }
    const end = h('span', { class: 'muted', id: 'end-of-list' }, tbody.children.length ? 'End of list.' : 'No job matches.');
    if (next === null) return more.replaceChildren(end);
    const from = next;
    const note = got < requested && searchedWithoutMatch > 0 ? [h('span', { class: 'muted', id: 'search-note' }, ` No match in the last ${searchedWithoutMatch.toLocaleString()} rows searched; Load more keeps looking.`)] : [];
    more.replaceChildren(button('Load more', () => loadPage(from), { id: 'load-more' }), ...note);
  };

  const searchingText = () => (searchedWithoutMatch > 0 ? `Searching older jobs… (${searchedWithoutMatch.toLocaleString()} rows so far)` : 'Searching older jobs…');

  const reload = async () => {
    tbody.replaceChildren();
    selected.clear();
    updateSelection();
    await loadPage(null);
  };

  const onSelection = async (action: Action) => {
    if (selected.size === 0) return showNotice('Select jobs first.');
    const ids = [...selected].slice(0, session.maxSelection);
    const result = await post<{ changed: string[] }>('api/bulk', { action, ids });
    showNotice(`${action}: ${result.changed.length} of ${ids.length} selected jobs changed.`);
    await reload();
  };

  const onFilter = async (action: Action) => {
    const { count, capped } = await get<{ count: number; capped: boolean }>(`api/jobs/count?${query.toString()}`);
    const expected = Math.min(count, session.maxBulk);
    const go = button('Confirm', async () => {
      confirmBox.hidden = true;
      const result = await post<{ changed: string[] }>('api/bulk', { action, filter: filterJson(query), expected });
      showNotice(`${action}: ${result.changed.length} jobs changed.`);
      await reload();
    }, { id: 'confirm-yes', class: 'danger' });
    const no = button('Cancel', () => {
      confirmBox.hidden = true;
    });
    const text = capped ? `More than ${count} jobs match; ${action} the first ${expected}?` : `${action} all ${count} jobs matching this filter?`;
    confirmBox.replaceChildren(h('span', { id: 'confirm-text' }, text), go, no);
    confirmBox.hidden = false;
  };

  if (!session.readOnly) {
    bar.append(selectedCount, ...ACTIONS.map((a) => button(`${a} selected`, () => onSelection(a), { 'data-bulk': a })), h('span', { class: 'sep' }, '|'), ...ACTIONS.map((a) => button(`${a} all matching`, () => onFilter(a), { 'data-filter-action': a })));
  }

  root.replaceChildren(
    h('h2', {}, 'Jobs'),
    filterForm(params),
    bar,
    confirmBox,
    h('table', { id: 'jobs' }, h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'Id'), h('th', {}, 'Kind'), h('th', {}, 'Queue'), h('th', {}, 'State'), h('th', { class: 'count' }, 'Attempt'), h('th', {}, 'Run at'), h('th', {}, 'Created'), h('th', {}, 'Last error'))), tbody),
    more,
  );
  await loadPage(null);
}
