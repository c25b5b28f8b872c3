import { signal } from '@preact/signals';
import type { CurrentConsoleSessionDto } from '../../shared/schemas/console-sessions.js';

/** An answer of the API that was not a success: its status and the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** The signed-in session (null: signed out, undefined: not known yet). */
export const session = signal<CurrentConsoleSessionDto | null | undefined>(undefined);
/** Why the console went back to the sign-in page on its own (an expired or revoked session). */
export const signedOutReason = signal<string | null>(null);

const SAFE = new Set(['GET', 'HEAD']);

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  // The session cookie goes by itself; changes carry the CSRF token the session was given.
  if (!SAFE.has(method) && session.value) headers['X-CSRF-Token'] = session.value.csrfToken;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The server could not be reached: check your connection and try again');
  }
  if (res.status === 401 && session.value && !path.startsWith('/console/sessions')) {
    const body = (await res
      .clone()
      .json()
      .catch(() => null)) as { error?: { message?: string } } | null;
    signedOutReason.value = body?.error?.message ?? 'The session ended: sign in again';
    session.value = null;
  }
  return res;
}

async function envelope<T>(res: Response): Promise<{ data: T; meta?: { total: number } }> {
  let body: { data: T; error: { name: string; message: string; details: unknown } | null; meta?: { total: number } };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(res.status, 'InternalError', `The server answered ${res.status} without a readable body`);
  }
  if (!res.ok || body.error) {
    const error = body.error ?? { name: 'InternalError', message: `HTTP ${res.status}`, details: null };
    throw new ApiError(res.status, error.name, error.message, error.details);
  }
  return body;
}

/** Calls the API and answers the envelope's `data`; failures throw {@link ApiError} with the API's message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await envelope<T>(await send(method, path, body))).data;
}

/** A page of a list, with its total. */
export async function apiPage<T>(path: string): Promise<Page<T>> {
  const { data, meta } = await envelope<T[]>(await send('GET', path));
  return { items: data, total: meta?.total ?? data.length };
}

/** A query string from the set values only. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The message to show for any failure: the API's own, or the thrown error's. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function hasScope(scope: string): boolean {
  const scopes = session.value?.scopes ?? [];
  return scopes.includes('admin') || scopes.includes(scope as never);
}
