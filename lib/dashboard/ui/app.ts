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
import { renderOverview } from './overview.ts';

const live = new EventTarget();
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
    const job = /^\/jobs\/(\d+)$/.exec(path);
    if (job) await renderJob(root, job[1]!);
    else if (path === '/jobs') await renderJobs(root, params);
    else if (path === '/cron') await renderCron(root);
    else stopView = await renderOverview(root, live);
  } catch (error) {
    root.replaceChildren(h('p', {}, 'This view could not be loaded.'));
    showError(error);
  }
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
  const events = new EventSource('api/events');
  events.addEventListener('counts', (event) => live.dispatchEvent(new CustomEvent('counts', { detail: JSON.parse((event as MessageEvent<string>).data) as unknown })));
  events.addEventListener('open', () => document.body.setAttribute('data-live', 'open'));
  events.addEventListener('error', () => document.body.setAttribute('data-live', 'reconnecting'));
  window.addEventListener('hashchange', () => void route(root));
  await route(root);
}

void start();
