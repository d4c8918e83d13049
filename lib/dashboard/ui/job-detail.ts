/**
 * One job: its fields and times, its args and metadata when the session may see them, every
 * recorded error with its stack, and the actions on it.
 */
import { ApiError, currentSession, get, post, type JobDetail } from './api.ts';
import { button, h, showNotice, when } from './dom.ts';
import { ACTIONS } from './jobs.ts';

function shown(text: { text: string; truncated: boolean; bytes: number } | null): Node {
  if (!text) return h('span', { class: 'muted' }, 'none');
  return h('div', {}, h('pre', {}, text.text), text.truncated ? h('p', { class: 'muted' }, `Cut: the whole is ${text.bytes} bytes.`) : null);
}

export async function renderJob(root: HTMLElement, id: string): Promise<void> {
  const session = currentSession();
  let job: JobDetail;
  try {
    job = await get<JobDetail>(`api/jobs/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      root.replaceChildren(h('h2', {}, `Job ${id}`), h('p', {}, 'No such job (deleted, or pruned after its retention).'));
      return;
    }
    throw error;
  }
  const field = (name: string, value: string) => h('tr', {}, h('th', {}, name), h('td', { 'data-field': name }, value));
  const actions = session.readOnly
    ? null
    : h(
        'div',
        { class: 'actions', id: 'job-actions' },
        ...ACTIONS.map((action) =>
          button(
            action,
            async () => {
              const result = await post<{ changed: string[] }>(`api/jobs/${encodeURIComponent(id)}/${action}`);
              showNotice(result.changed.length ? `${action}: done.` : `${action}: not possible in state ${job.state}.`);
              if (action === 'delete' && result.changed.length) location.hash = '#/jobs';
              else await renderJob(root, id);
            },
            { 'data-action': action, class: action === 'delete' ? 'danger' : undefined },
          ),
        ),
      );
  root.replaceChildren(
    h('h2', {}, `Job ${job.id} `, h('span', { class: `state ${job.state}`, id: 'job-state' }, job.state)),
    actions ?? '',
    h(
      'table',
      { class: 'fields' },
      field('kind', job.kind),
      field('queue', job.queue),
      field('priority', String(job.priority)),
      field('attempt', `${job.attempt} of ${job.maxAttempts}`),
      field('held by', job.lockedBy ?? '–'),
      field('unique key', job.uniqueKey ?? '–'),
    ),
    h('h3', {}, 'Timeline'),
    h('table', { class: 'fields', id: 'timeline' }, field('created', when(job.createdAt)), field('run at', when(job.runAt)), field('last attempted', when(job.attemptedAt)), field('lease until', when(job.leaseExpiresAt)), field('finalized', when(job.finalizedAt))),
    h('h3', {}, 'Args'),
    job.argsHidden ? h('p', { class: 'muted', id: 'args-hidden' }, 'Hidden: this dashboard does not show args to you.') : h('div', { id: 'args' }, shown(job.args)),
    job.argsHidden ? '' : h('h3', {}, 'Metadata'),
    job.argsHidden ? '' : shown(job.metadata),
    h('h3', {}, `Errors (${job.errors.length})`),
    h(
      'ol',
      { id: 'errors', class: 'errors' },
      ...job.errors.map((e) =>
        h(
          'li',
          {},
          h('p', {}, h('strong', {}, `${e.name ?? 'Error'}: `), e.message.text, ' ', h('span', { class: 'muted' }, `attempt ${e.attempt ?? '?'}, ${when(e.at)}${e.reason ? `, ${e.reason}` : ''}`)),
          e.stack ? h('details', {}, h('summary', {}, 'Stack'), h('pre', {}, e.stack.text)) : null,
        ),
      ),
    ),
  );
}
