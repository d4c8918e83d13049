/**
 * Placeholder front end: shows who is signed in and the live counts by queue and state. The
 * real one replaces this file (docs/design/dashboard.md, section 3). Every URL is relative, so
 * it resolves against the `<base href>` the server sets: the page works under any mount path.
 */

interface Session {
  principal: { id: string; name: string };
  readOnly: boolean;
}

interface CountsEvent {
  counts: { queue: string; state: string; count: number; estimated: boolean }[];
  paused: string[];
}

function cell(tag: 'td' | 'th', text: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function renderCounts(root: HTMLElement, data: CountsEvent): void {
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const title of ['Queue', 'State', 'Jobs']) head.append(cell('th', title));
  table.append(head);
  for (const c of data.counts) {
    const row = document.createElement('tr');
    const queue = data.paused.includes(c.queue) ? `${c.queue} (paused)` : c.queue;
    row.append(cell('td', queue), cell('td', c.state), cell('td', `${c.estimated ? '~' : ''}${c.count}`, 'count'));
    table.append(row);
  }
  root.replaceChildren(table);
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const response = await fetch('api/session', { headers: { accept: 'application/json' } });
  if (!response.ok) {
    root.textContent = `The dashboard answered ${response.status}.`;
    return;
  }
  const session = (await response.json()) as Session;
  document.getElementById('principal')!.textContent = `${session.principal.name}${session.readOnly ? ' (read-only)' : ''}`;
  const events = new EventSource('api/events');
  events.addEventListener('counts', (event) => renderCounts(root, JSON.parse((event as MessageEvent<string>).data) as CountsEvent));
}

void start();
