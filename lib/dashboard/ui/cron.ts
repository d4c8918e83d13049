/** The periodic jobs the app gave the dashboard, with their previous and next slots and last job. */
import { get, type JobSummary } from './api.ts';
import { h, when } from './dom.ts';

interface CronEntry {
  name: string;
  schedule: string;
  kind: string;
  queue: string;
  previous: string;
  next: string[];
  lastJob: JobSummary | null;
}

export async function renderCron(root: HTMLElement): Promise<void> {
  const { periodic } = await get<{ periodic: CronEntry[] }>('api/cron');
  const table = h('table', { id: 'cron' }, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Schedule'), h('th', {}, 'Kind'), h('th', {}, 'Queue'), h('th', {}, 'Previous slot'), h('th', {}, 'Next slots'), h('th', {}, 'Last job')));
  for (const p of periodic) {
    const last = p.lastJob ? h('a', { href: `#/jobs/${p.lastJob.id}` }, `${p.lastJob.id} (${p.lastJob.state})`) : '–';
    table.append(h('tr', {}, h('td', {}, p.name), h('td', {}, h('code', {}, p.schedule)), h('td', {}, p.kind), h('td', {}, p.queue), h('td', {}, when(p.previous)), h('td', {}, p.next.map(when).join(', ')), h('td', {}, last)));
  }
  root.replaceChildren(h('h2', {}, 'Cron'), periodic.length ? table : h('p', { class: 'muted' }, 'No periodic job was given to the dashboard (its `periodic` option).'));
}
