/**
 * @module web/app/api
 * The console's only way out: fetch to the admin API on the same origin, with the session cookie
 * (credentials same-origin) and, on every unsafe method, the session's CSRF token in
 * `X-CSRF-Token` (the API refuses a cookie-authenticated change without it). Errors arrive as
 * RFC 9457 problem documents; their `detail` (or title) becomes the ApiError's message, which
 * pages show as text. A 401 anywhere means the session ended: listeners (the shell) go to login.
 * Touches: the network (same origin only; CSP connect-src 'self').
 */

/** A validation error of a configuration change: the field's path and why (api/problem `errors`). */
export interface FieldError {
  path: string;
  reason: string;
}

/**
 * A failed API call: HTTP status, the problem's detail, for a configuration that does not
 * validate each field's error, and the problem document itself (extension members, e.g. the new
 * preview of a refused adopt).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
    readonly problem?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Who is logged in, as `GET /api/v1/session` answers. */
export interface Session {
  user: string;
  scope: 'read' | 'operate' | 'admin';
  csrf: string;
}

let csrf = '';
const unauthorizedListeners = new Set<() => void>();

/** Call `fn` whenever the API answers 401 (the session expired or was revoked). */
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

async function problemOf(res: Response): Promise<{ message: string; errors?: FieldError[]; problem?: Record<string, unknown> }> {
  try {
    const body = (await res.json()) as { detail?: unknown; title?: unknown; errors?: unknown };
    const errors = Array.isArray(body.errors) ? body.errors.filter((e): e is FieldError => typeof e?.path === 'string' && typeof e?.reason === 'string') : undefined;
    const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    if (typeof body.detail === 'string' && body.detail) return { message: body.detail, errors, problem };
    if (typeof body.title === 'string' && body.title) return { message: body.title, errors, problem };
  } catch {
    // not JSON: fall through to the status line
  }
  return { message: `${res.status} ${res.statusText}`.trim() };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A raw call: the Response when 2xx, else throws ApiError. `body` is sent as JSON unless it is a Blob/File. */
export async function request(method: Method, path: string, body?: unknown, opts: { quiet401?: boolean; background?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json, text/csv, */*' };
  // A refresh the page makes by itself: the server does not count it as activity (idle timeout).
  if (opts.background) headers['x-mailgate-background'] = '1';
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    payload = body;
    headers['content-type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the gateway did not answer (is mailgate running?)');
  }
  if (res.ok) return res;
  if (res.status === 401 && !opts.quiet401) for (const fn of unauthorizedListeners) fn();
  const p = await problemOf(res);
  throw new ApiError(res.status, p.message, p.errors, p.problem);
}

async function json<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The admin API, JSON in and out. Paths start with /api/v1/. */
export const api = {
  get: async <T>(path: string, opts: { background?: boolean } = {}): Promise<T> => json<T>(await request('GET', path, undefined, opts)),
  post: async <T>(path: string, body?: unknown): Promise<T> => json<T>(await request('POST', path, body ?? {})),
  put: async <T>(path: string, body?: unknown): Promise<T> => json<T>(await request('PUT', path, body ?? {})),
  patch: async <T>(path: string, body?: unknown): Promise<T> => json<T>(await request('PATCH', path, body ?? {})),
  del: async <T>(path: string): Promise<T> => json<T>(await request('DELETE', path)),
  /** A text answer (CSV, PowerShell) for a download. */
  text: async (path: string): Promise<string> => (await request('GET', path)).text(),
};

/** `path` with `params` as its query string (undefined and '' left out). */
export function withQuery(path: string, params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The current session, or undefined when not logged in. */
export async function currentSession(): Promise<Session | undefined> {
  try {
    const s = await json<Session>(await request('GET', '/api/v1/session', undefined, { quiet401: true }));
    csrf = s.csrf;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    throw e;
  }
}

/** Log in with an API token, or a console user's name and password. */
export async function login(credentials: { token: string } | { user: string; password: string }): Promise<Session> {
  const s = await json<Session>(await request('POST', '/api/v1/session', credentials, { quiet401: true }));
  csrf = s.csrf;
  return s;
}

/** End the session (the cookie is cleared by the answer). */
export async function logout(): Promise<void> {
  try {
    await request('DELETE', '/api/v1/session', undefined, { quiet401: true });
  } finally {
    csrf = '';
  }
}
