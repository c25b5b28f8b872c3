/**
 * Small `node:http` helpers for the fake LLM: JSON bodies, OpenAI-style
 * errors, abortable sleeps and awaited writes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body accepted; the real API rejects huge bodies too. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A JSON object as parsed from a request body. */
export type JsonObject = Record<string, unknown>;

/** Outcome of reading a request body as JSON. */
export type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; message: string };

/** Reads the whole request body and parses it as JSON (empty body → `undefined`). */
export function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        settle({ ok: false, status: 413, message: 'Request body too large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return settle({ ok: true, value: undefined });
      try {
        settle({ ok: true, value: JSON.parse(text) as unknown });
      } catch {
        settle({ ok: false, status: 400, message: 'We could not parse the JSON body of your request.' });
      }
    });
    // A client that goes away mid-upload gets no answer; the caller sees res 'close'.
    req.on('error', () => settle({ ok: false, status: 400, message: 'Request body could not be read' }));
  });
}

/** True when `value` is a plain JSON object (not an array or null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes a JSON response unless the connection is already gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** `type` and `code` the real API uses for common statuses, so client error classes match. */
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 400) return { type: 'invalid_request_error', code: null };
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 404) return { type: 'invalid_request_error', code: 'unknown_url' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** Builds the OpenAI error body `{ error: { message, type, param, code } }`. */
export function errorBody(status: number, message: string, code?: string): JsonObject {
  const kind = errorKind(status);
  return { error: { message, type: kind.type, param: null, code: code ?? kind.code } };
}

/** Sends an OpenAI-style error response. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  options: { code?: string; headers?: Record<string, string> } = {},
): void {
  sendJson(res, status, errorBody(status, message, options.code), options.headers);
}

/** Waits `ms`; resolves `false` early (never rejects) once `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Writes `data` and waits until it is handed to the socket, so a later
 * deliberate socket kill cannot drop chunks that were "already sent".
 * Resolves `false` when the connection is gone.
 */
export function writeAsync(res: ServerResponse, data: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    res.write(data, (err) => resolve(!err));
  });
}
