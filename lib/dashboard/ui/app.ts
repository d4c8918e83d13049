/**
 * The dashboard page: loads the session, keeps one live-update stream open for the whole visit,
 * and shows the view the hash names (`#/`, `#/jobs?…`, `#/jobs/:id`, `#/cron`). Hash routes
 * keep deep links working under any mount path, since the server only ever sees the base path.
 */
import { loadSession } from './api.ts';
import { renderCron } from './cron.ts';
import { h, showError } from './dom.ts';
import { renderJob } from './job-detail.ts';
import { renderJobs } from './jobs.ts';
import { renderOverview, type CountsEvent } from './overview.ts';

const live = new EventTarget();
/**
 * The newest `counts` event, whenever it came. The server sends a snapshot only when it differs
 * from the last one it sent, so an event that arrived while a view was still loading is not sent
 * again: a view that starts later must begin from it, or it would miss that change for good.
 */
let latestCounts: CountsEvent | null = null;
let stopView: (() => void) | null = null;

async function route(root: HTMLElement): Promise<void> {
  stopView?.();
  stopView = null;
  const hash = location.hash.replace(/^#/, '') || '/';
  const cut = hash.indexOf('?');
  const path = cut < 0 ? hash : hash.slice(0, cut);
  const params = new URLSearchParams(cut < 0 ? '' : hash.slice(cut + 1));
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.getAttribute('data-view') === (path.split('/')[1] || 'overview'));
  const status = document.getElementById('status');
  if (status) status.textContent = '';
  try {
    const job = /^\/jobs\/([0-9a-f-]{1,40})$/.exec(path);
    if (job) await renderJob(root, job[1]!);
    else if (path === '/jobs') {
      // Set before the first page is awaited: the list may follow short pages for a while, and a
      // hash change during that must stop it.
      const controller = new AbortController();
      stopView = () => controller.abort();
      await renderJobs(root, params, controller.signal);
    }
    else if (path === '/cron') await renderCron(root);
    else stopView = await renderOverview(root, live, () => latestCounts);
  } catch (error) {
    root.replaceChildren(h('p', {}, 'This view could not be loaded.'));
    showError(error);
  }
}

/** The first wait before opening the stream again after the browser gave up on it; doubled up to {@link STREAM_RETRY_MAX_MS}. */
const STREAM_RETRY_MS = 1_000;
const STREAM_RETRY_MAX_MS = 30_000;

/**
 * Opens the live event stream. The browser reconnects an `EventSource` by itself after a network
 * error, but gives up for good after an answer that is not a stream (the server's 503 while it
 * shuts down, a proxy's 502): the tab would say "reconnecting" until reloaded. Then a new
 * stream is opened after a wait that grows with each failure and starts over once one opens.
 */
function openStream(retryMs = STREAM_RETRY_MS): void {
  const events = new EventSource('api/events');
  events.addEventListener('counts', (event) => {
    latestCounts = JSON.parse((event as MessageEvent<string>).data) as CountsEvent;
    // How many came: lets a test (or a curious operator) see that the stream is delivering.
    document.body.dataset['liveEvents'] = String(Number(document.body.dataset['liveEvents'] ?? 0) + 1);
    live.dispatchEvent(new CustomEvent('counts', { detail: latestCounts }));
  });
  let opened = false;
  events.addEventListener('open', () => {
    opened = true;
    document.body.setAttribute('data-live', 'open');
  });
  events.addEventListener('error', () => {
    document.body.setAttribute('data-live', 'reconnecting');
    if (events.readyState !== EventSource.CLOSED) return;
    events.close();
    const wait = opened ? STREAM_RETRY_MS : retryMs;
    setTimeout(() => openStream(Math.min(wait * 2, STREAM_RETRY_MAX_MS)), wait);
  });
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const session = await loadSession();
    document.getElementById('principal')!.textContent = `${session.principal.name}${session.readOnly ? ' (read-only)' : ''}`;
    document.body.classList.toggle('read-only', session.readOnly);
  } catch (error) {
    root.replaceChildren(h('p', {}, 'The dashboard could not be loaded.'));
    showError(error);
    return;
  }
  openStream();
  window.addEventListener('hashchange', () => void route(root));
  await route(root);
}

void start();
