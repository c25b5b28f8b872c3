import { expect } from 'vitest';
import type { SourceDto, SourceStatus } from '../../../shared/schemas/sources.js';
import type { ApiClient } from '../../test/api-client.js';

/** Creates a bot and returns its id. */
export async function createBot(api: ApiClient, name = 'Help bot'): Promise<string> {
  const res = await api.post<{ id: string }>('/api/v1/chatbots', { name });
  expect(res.status).toBe(201);
  return res.body.data.id;
}

/** Adds a source and expects the 202 with the source queued. */
export async function addSource(api: ApiClient, botId: string, body: Record<string, unknown>): Promise<SourceDto> {
  const res = await api.post<SourceDto>(`/api/v1/chatbots/${botId}/sources`, body);
  expect(res.status, JSON.stringify(res.body.error)).toBe(202);
  expect(res.body.data.status).toBe('queued');
  return res.body.data;
}

/** Polls a source until it reaches one of `statuses` (ready or failed by default). */
export async function waitForSource(
  api: ApiClient,
  sourceId: string,
  statuses: SourceStatus[] = ['ready', 'failed'],
  timeoutMs = 20_000,
): Promise<SourceDto> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get<SourceDto>(`/api/v1/sources/${sourceId}`);
    if (res.status === 200 && statuses.includes(res.body.data.status)) return res.body.data;
    if (Date.now() > deadline) {
      throw new Error(`source ${sourceId} did not reach ${statuses.join('/')}: ${JSON.stringify(res.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/** Uploads a file as multipart/form-data. */
export async function uploadFile(
  api: ApiClient,
  botId: string,
  file: { name: string; type: string; data: Buffer },
  title?: string,
) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
  if (title) form.append('title', title);
  const res = await fetch(`${api.baseUrl}/api/v1/chatbots/${botId}/sources`, {
    method: 'POST',
    headers: api.headers(),
    body: form,
  });
  return {
    status: res.status,
    body: (await res.json()) as { data: SourceDto; error: { name: string; message: string } | null },
  };
}

/** Settings that keep the job queue quick in tests. */
export const FAST_QUEUE_ENV = {
  KNOWLEDGE_JOB_POLL_MS: '50',
  KNOWLEDGE_JOB_BACKOFF_MS: '50',
  KNOWLEDGE_JOB_MAX_ATTEMPTS: '2',
  KNOWLEDGE_FETCH_TIMEOUT_MS: '1500',
};
