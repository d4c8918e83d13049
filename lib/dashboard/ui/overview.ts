/**
 * The overview: live counts by queue and state (the `counts` events of `api/events`), the queues
 * with pause and resume, the running jobs with the workers holding them, and the jobs finished
 * per hour over the last day. That last part comes from `api/throughput`, fetched once the rest
 * is on screen: it scans the jobs table, and the server serves one read for a minute.
 */
import { currentSession, get, post, type Count } from './api.ts';
import { button, h, showNotice, when } from './dom.ts';

const STATES = ['available', 'running', 'completed', 'cancelled', 'discarded'] as const;

interface Overview {
  counts: Count[];
  queues: { name: string; paused: boolean }[];
  running: { id: string; queue: string; kind: string; attempt: number; maxAttempts: number; lockedBy: string | null; attemptedAt: string | null; leaseExpiresAt: string | null }[];
}

interface Throughput {
  throughput: { at: string; completed: number; discarded: number; cancelled: number }[];
  /** When the server read it (it answers from that read for a minute). */
  readAt: string;
}

export interface CountsEvent {
  counts: Count[];
  paused: string[];
}

/** The counts table: one row per queue, one column per state, each cell a link to that list. */
export function countsTable(data: CountsEvent): HTMLTableElement {
  const queues = [...new Set([...data.counts.map((c) => c.queue), ...data.paused])].sort();
  const table = h('table', { class: 'counts', id: 'counts' }, h('tr', {}, h('th', {}, 'Queue'), ...STATES.map((s) => h('th', { class: 'count' }, s))));
  for (const queue of queues) {
    const row = h('tr', { 'data-queue': queue }, h('td', {}, queue, data.paused.includes(queue) ? h('span', { class: 'badge' }, 'paused') : null));
    for (const state of STATES) {
      const c = data.counts.find((x) => x.queue === queue && x.state === state);
      const text = c ? `${c.estimated ? '~' : ''}${c.count}` : '0';
      const link = h('a', { href: `#/jobs?${new URLSearchParams({ queue, state }).toString()}` }, text);
      row.append(h('td', { class: 'count', 'data-state': state }, link));
    }
    table.append(row);
  }
  return table;
}

function throughputChart(buckets: Throughput['throughput']): Element {
  if (buckets.every((b) => b.completed + b.discarded + b.cancelled === 0)) return h('p', { class: 'muted' }, 'No job finished in the last 24 hours.');
  const ns = 'http://www.w3.org/2000/svg';
  const max = Math.max(1, ...buckets.map((b) => b.completed + b.discarded + b.cancelled));
  const barWidth = 12;
  const height = 80;
  const svg = document.createElementNS(ns, 'svg');
  // One slot per hour of the last day, the newest on the right; the API sends only hours with jobs.
  const slots = 24;
  svg.setAttribute('viewBox', `0 0 ${slots * (barWidth + 2)} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'xMinYMax meet');
  const now = Date.now();
  svg.setAttribute('class', 'throughput');
  svg.setAttribute('role', 'img');
  for (const b of buckets) {
    const i = Math.min(slots - 1, Math.max(0, slots - 1 - Math.floor((now - Date.parse(b.at)) / 3_600_000)));
    let y = height;
    for (const [part, value] of [['completed', b.completed], ['discarded', b.discarded], ['cancelled', b.cancelled]] as const) {
      if (value === 0) continue;
      const barHeight = (value / max) * height;
      y -= barHeight;
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', String(i * (barWidth + 2)));
      rect.setAttribute('y', String(y));
      rect.setAttribute('width', String(barWidth));
      rect.setAttribute('height', String(barHeight));
      rect.setAttribute('class', part);
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${when(b.at)}: ${value} ${part}`;
      rect.append(title);
      svg.append(rect);
    }
  }
  const table = h('table', { class: 'throughput-table' }, h('tr', {}, h('th', {}, 'Hour'), h('th', { class: 'count' }, 'completed'), h('th', { class: 'count' }, 'discarded'), h('th', { class: 'count' }, 'cancelled')));
  for (const b of buckets) {
    table.append(h('tr', {}, h('td', {}, when(b.at)), h('td', { class: 'count' }, String(b.completed)), h('td', { class: 'count' }, String(b.discarded)), h('td', { class: 'count' }, String(b.cancelled))));
  }
  return h('div', {}, svg, h('details', {}, h('summary', {}, 'By hour'), table));
}

/**
 * Renders the overview into `root`; the returned function stops its live updates. `latest` is
 * the newest counts event of the page's stream, if any came yet.
 */
export async function renderOverview(root: HTMLElement, events: EventTarget, latest: () => CountsEvent | null): Promise<() => void> {
  const session = currentSession();
  const data = await get<Overview>('api/overview');
  // One state for both tables, so the paused badge and the queue's button never disagree: an
  // action updates it at once, and each counts event replaces it. The stream's newest event wins
  // over this view's own read: the stream always ends on the current counts (the server sends
  // again whenever they differ from what it last sent), but it does not repeat an event that
  // came while this view was loading.
  let live: CountsEvent = latest() ?? { counts: data.counts, paused: data.queues.filter((q) => q.paused).map((q) => q.name) };
  const countsBox = h('div', {});
  const queuesBox = h('div', {});

  const render = () => {
    countsBox.replaceChildren(countsTable(live));
    const names = [...new Set([...live.counts.map((c) => c.queue), ...live.paused])].sort();
    const table = h('table', { id: 'queues' }, h('tr', {}, h('th', {}, 'Queue'), h('th', {}, 'State'), h('th', {}, '')));
    for (const name of names) {
      const paused = live.paused.includes(name);
      const act = async (action: 'pause' | 'resume') => {
        const result = await post<{ paused: boolean }>(`api/queues/${encodeURIComponent(name)}/${action}`);
        showNotice(`Queue ${name} ${result.paused ? 'paused' : 'resumed'}.`);
        live = { counts: live.counts, paused: result.paused ? [...new Set([...live.paused, name])] : live.paused.filter((q) => q !== name) };
        render();
      };
      const control = session.readOnly ? null : paused ? button('Resume', () => act('resume'), { 'data-action': 'resume' }) : button('Pause', () => act('pause'), { 'data-action': 'pause' });
      table.append(h('tr', { 'data-queue': name }, h('td', {}, name), h('td', {}, paused ? 'paused' : 'active'), h('td', {}, control)));
    }
    queuesBox.replaceChildren(names.length ? table : h('p', { class: 'muted' }, 'No queue has jobs yet.'));
  };
  render();

  const running = h('table', { id: 'running' }, h('tr', {}, h('th', {}, 'Job'), h('th', {}, 'Kind'), h('th', {}, 'Queue'), h('th', {}, 'Attempt'), h('th', {}, 'Held by'), h('th', {}, 'Started'), h('th', {}, 'Lease until')));
  for (const r of data.running) {
    running.append(
      h('tr', {}, h('td', {}, h('a', { href: `#/jobs/${r.id}` }, r.id)), h('td', {}, r.kind), h('td', {}, r.queue), h('td', {}, `${r.attempt}/${r.maxAttempts}`), h('td', {}, r.lockedBy ?? '–'), h('td', {}, when(r.attemptedAt)), h('td', {}, when(r.leaseExpiresAt))),
    );
  }

  const throughputBox = h('div', { id: 'throughput' }, h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(
    h('section', {}, h('h2', {}, 'Jobs by queue and state'), countsBox),
    h('section', {}, h('h2', {}, 'Queues'), queuesBox),
    h('section', {}, h('h2', {}, 'Running'), data.running.length ? running : h('p', { class: 'muted' }, 'No job is running.')),
    h('section', {}, h('h2', {}, 'Finished per hour (last 24 hours)'), throughputBox),
  );
  // After first paint, and not awaited: the rest of the overview never waits for this scan.
  get<Throughput>('api/throughput').then(
    (t) => throughputBox.replaceChildren(throughputChart(t.throughput), h('p', { class: 'muted' }, `As of ${when(t.readAt)}.`)),
    (error: unknown) => throughputBox.replaceChildren(h('p', { class: 'muted' }, `Could not load: ${error instanceof Error ? error.message : String(error)}`)),
  );

  const onCounts = (event: Event) => {
    live = (event as CustomEvent<CountsEvent>).detail;
    render();
  };
  events.addEventListener('counts', onCounts);
  return () => events.removeEventListener('counts', onCounts);
}
