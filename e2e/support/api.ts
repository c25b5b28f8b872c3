import { API_ORIGIN, E2E_ADMIN_KEY } from '../stack/ports.js';

/** Calls the stack's REST API as the seeded organization's admin and returns the envelope's `data`. */
export async function adminApi<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${API_ORIGIN}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${E2E_ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await res.json()) as { data: T; error: { message: string } | null };
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${envelope.error?.message ?? ''}`);
  return envelope.data;
}
