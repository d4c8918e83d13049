/**
 * The page's access to the dashboard's HTTP API. Every URL is relative, so it resolves against
 * the `<base href>` the server sets: the page works under any mount path. Every POST carries the
 * CSRF token from `api/session` and a JSON body; a token the server no longer accepts (it lives
 * 24 hours, or the process restarted) is renewed once.
 */

export interface Session {
  principal: { id: string; name: string };
  readOnly: boolean;
  showArgs: boolean;
  csrfToken: string;
  maxBulk: number;
  maxSelection: number;
}

export interface JobSummary {
  id: string;
  queue: string;
  kind: string;
  state: string;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: string;
  createdAt: string;
  attemptedAt: string | null;
  finalizedAt: string | null;
  lockedBy: string | null;
  lastError: string | null;
}

export interface ShownText {
  text: string;
  bytes: number;
  truncated: boolean;
}

export interface JobDetail extends JobSummary {
  argsHidden: boolean;
  args: ShownText | null;
  metadata: ShownText | null;
  leaseExpiresAt: string | null;
  uniqueKey: string | null;
  errors: { attempt: number | null; at: string; name: string | null; reason: string | null; message: ShownText; stack: ShownText | null }[];
}

export interface Count {
  queue: string;
  state: string;
  count: number;
  estimated: boolean;
}

/** An error answer of the API, with its code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let session: Session | null = null;

async function parse<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `The dashboard answered ${response.status}.`);
  return body as T;
}

export async function loadSession(): Promise<Session> {
  session = await parse<Session>(await fetch('api/session', { headers: { accept: 'application/json' } }));
  return session;
}

export function currentSession(): Session {
  if (!session) throw new Error('The session is not loaded yet.');
  return session;
}

export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const send = () =>
    fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': currentSession().csrfToken },
      body: JSON.stringify(body),
    });
  let response = await send();
  if (response.status === 403) {
    const copy = response.clone();
    const code = ((await copy.json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code;
    if (code === 'CSRF_TOKEN_INVALID') {
      await loadSession();
      response = await send();
    }
  }
  return parse<T>(response);
}
