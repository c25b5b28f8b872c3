/**
 * A small OpenAI-compatible HTTP server: the project's one stand-in for the
 * paid model API. The real `openai` package talks to it over real HTTP in
 * integration tests, e2e tests and benchmarks. Built on `node:http` only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleChat } from './fake-llm.chat.js';
import { embeddingsResponse } from './fake-llm.embeddings.js';
import { isJsonObject, readJsonBody, sendError, sendJson, sleep } from './fake-llm.http.js';

/** Options for {@link startFakeLlm}. */
export interface FakeLlmOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; default `0` (a free port, read it from `url`). */
  port?: number;
  /** Delay before the first byte of chat/embedding responses; default 0. */
  latencyMs?: number;
  /** Delay between streamed tokens; default 0. */
  tokenDelayMs?: number;
  /** Embedding vector length; default 64 (a request's `dimensions` overrides it). */
  embeddingDims?: number;
  /**
   * `retry-after-ms` header value on injected failures; default 0 so the
   * `openai` client's built-in retries do not add seconds of backoff to
   * tests. `null` omits the header (the client then uses its own backoff).
   */
  retryAfterMs?: number | null;
}

/** One request to `/v1/*`, as recorded by the fake. */
export interface RecordedCall {
  /** URL path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** `model` from the JSON body, when it had one. */
  model?: string;
  /** Parsed JSON body (`undefined` for GET or an empty/unparseable body). */
  body: unknown;
  /** True once the client closed the connection before the response finished. */
  aborted: boolean;
  /** `Date.now()` when the request arrived. */
  startedAt: number;
}

/** Handle to a running fake LLM. */
export interface FakeLlm {
  /** Base URL for the openai client, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  /** Every request to `/v1/*`, in arrival order. `reset()` empties this same array. */
  calls: RecordedCall[];
  /** The next `count` chat/embedding requests answer `status` (default 500) with an OpenAI error body. Calls add up. */
  failNext(count: number, status?: number): void;
  /** After `after` more chat/embedding requests succeed, the next `count` answer `status` (default 500): a failure mid-job. */
  failLater(after: number, count: number, status?: number): void;
  /** Every chat/embedding request answers `status` (default 500) until `reset()`. */
  failAlways(status?: number): void;
  /** The next streamed chat response destroys the socket after `afterChunks` content chunks. */
  dieMidStream(afterChunks: number): void;
  /** The next streamed chat response goes silent after `afterChunks` content chunks, keeping the connection open. */
  stallMidStream(afterChunks: number): void;
  /** Delay before the first byte and (when given) between streamed tokens; an omitted `tokenDelayMs` keeps the current one. */
  setLatency(ms: number, tokenDelayMs?: number): void;
  /** Fixed reply for chat completions; `null` restores the default deterministic reply. */
  setReply(text: string | null): void;
  /** Clears failures, pending mid-stream death, reply override, calls; latency returns to the start options. */
  reset(): void;
  /** Closes the server and all open connections. */
  stop(): Promise<void>;
}

const MODELS = ['fake-chat', 'fake-embed'];
/** Fixed `created` timestamp so model listings are identical across runs. */
const MODELS_CREATED = 1_700_000_000;

function assertCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

/**
 * Starts the fake LLM and resolves once it listens.
 *
 * Endpoints: `GET /v1/models`, `GET /v1/models/:id`, `POST /v1/chat/completions`
 * (plain or `stream: true`, honouring `stream_options.include_usage` and
 * `max_tokens`/`max_completion_tokens`), `POST /v1/embeddings` (`float` or
 * `base64`). Unknown routes answer 404 with an OpenAI error body. Any
 * `Authorization` header is accepted and never stored.
 *
 * Default chat reply (see `buildReply`): if system messages contain lines
 * starting with `[n]`, `Based on [n]: <first 12 words of the lowest-numbered
 * passage>`; otherwise `Echo: <last user message>`. Usage counts words as tokens.
 *
 * Magic markers in the last user message, for browser-driven tests that cannot
 * call the handle's methods:
 * - `#fail500` → the request answers 500;
 * - `#slow` → 150 ms between streamed tokens;
 * - `#die` → a streamed response dies after 2 content chunks;
 * - `#dieonce` → like `#die` the first time this exact message is asked, answered normally after;
 * - `#stall` → a streamed response goes silent after 2 content chunks (the connection stays open);
 * - `#long` → a 60-word reply.
 */
export function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const host = options.host ?? '127.0.0.1';
  const embeddingDims = options.embeddingDims ?? 64;
  const retryAfterMs = options.retryAfterMs === undefined ? 0 : options.retryAfterMs;
  const errorHeaders: Record<string, string> = retryAfterMs === null ? {} : { 'retry-after-ms': String(retryAfterMs) };

  const calls: RecordedCall[] = [];
  /** Outcomes of the next requests in arrival order: a status to fail with, or null to answer normally. */
  const failQueue: Array<number | null> = [];
  let failAlwaysStatus: number | null = null;
  let dieAfter: number | null = null;
  let stallAfter: number | null = null;
  let replyOverride: string | null = null;
  let latencyMs = options.latencyMs ?? 0;
  let tokenDelayMs = options.tokenDelayMs ?? 0;
  let stopping = false;
  const stopController = new AbortController();

  function takeFailure(): number | null {
    if (failAlwaysStatus !== null) return failAlwaysStatus;
    return failQueue.shift() ?? null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake-llm').pathname;
    if (path !== '/v1' && !path.startsWith('/v1/')) {
      req.resume();
      return sendError(res, 404, `Unknown request URL: ${method} ${path}.`);
    }
    const call: RecordedCall = { path, body: undefined, aborted: false, startedAt: Date.now() };
    calls.push(call);

    // One signal per request: fires on client disconnect or server stop, so sleeps and streams end early.
    const requestController = new AbortController();
    const onStop = (): void => requestController.abort();
    stopController.signal.addEventListener('abort', onStop, { once: true });
    let killed = false;
    res.on('close', () => {
      stopController.signal.removeEventListener('abort', onStop);
      if (!res.writableFinished && !killed && !stopping) call.aborted = true;
      requestController.abort();
    });
    const signal = requestController.signal;

    const parsed = await readJsonBody(req);
    if (!parsed.ok) return sendError(res, parsed.status, parsed.message);
    call.body = parsed.value;
    if (isJsonObject(parsed.value) && typeof parsed.value.model === 'string') call.model = parsed.value.model;

    if (method === 'GET' && path === '/v1/models') {
      const data = MODELS.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'fake-llm' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(path);
    if (method === 'GET' && modelMatch) {
      const id = decodeURIComponent(modelMatch[1] ?? '');
      if (!MODELS.includes(id))
        return sendError(res, 404, `The model '${id}' does not exist`, { code: 'model_not_found' });
      return sendJson(res, 200, { id, object: 'model', created: MODELS_CREATED, owned_by: 'fake-llm' });
    }

    const isChat = method === 'POST' && path === '/v1/chat/completions';
    const isEmbeddings = method === 'POST' && path === '/v1/embeddings';
    if (!isChat && !isEmbeddings) {
      return sendError(res, 404, `Unknown request URL: ${method} ${path}. Please check the URL for typos.`);
    }

    // Taken on arrival so concurrent requests consume failures in arrival order.
    const failure = takeFailure();
    if (!(await sleep(latencyMs, signal))) return;
    if (failure !== null) {
      return sendError(res, failure, `Injected failure (status ${failure}) from the fake LLM.`, {
        code: 'injected_failure',
        headers: errorHeaders,
      });
    }

    if (isEmbeddings) {
      const result = embeddingsResponse(parsed.value, embeddingDims);
      if (!result.ok) return sendError(res, result.status, result.message);
      return sendJson(res, 200, result.value);
    }
    await handleChat(parsed.value, {
      res,
      signal,
      tokenDelayMs,
      replyOverride,
      errorHeaders,
      takeDie: () => {
        const n = dieAfter;
        dieAfter = null;
        return n;
      },
      takeStall: () => {
        const n = stallAfter;
        stallAfter = null;
        return n;
      },
      onKill: () => {
        killed = true;
      },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendError(res, 500, `Fake LLM internal error: ${message}`);
      else res.destroy();
    });
  });

  const fake: FakeLlm = {
    url: '',
    calls,
    failNext(count, status = 500) {
      assertCount('count', count);
      for (let i = 0; i < count; i++) failQueue.push(status);
    },
    failLater(after, count, status = 500) {
      assertCount('after', after);
      assertCount('count', count);
      for (let i = 0; i < after; i++) failQueue.push(null);
      for (let i = 0; i < count; i++) failQueue.push(status);
    },
    failAlways(status = 500) {
      failAlwaysStatus = status;
    },
    dieMidStream(afterChunks) {
      assertCount('afterChunks', afterChunks);
      dieAfter = afterChunks;
    },
    stallMidStream(afterChunks) {
      assertCount('afterChunks', afterChunks);
      stallAfter = afterChunks;
    },
    setLatency(ms, tokenDelay) {
      latencyMs = ms;
      if (tokenDelay !== undefined) tokenDelayMs = tokenDelay;
    },
    setReply(text) {
      replyOverride = text;
    },
    reset() {
      failQueue.length = 0;
      failAlwaysStatus = null;
      dieAfter = null;
      stallAfter = null;
      replyOverride = null;
      latencyMs = options.latencyMs ?? 0;
      tokenDelayMs = options.tokenDelayMs ?? 0;
      calls.length = 0;
    },
    stop() {
      if (!server.listening) return Promise.resolve();
      stopping = true;
      stopController.abort();
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive and streaming sockets.
        server.closeAllConnections();
      });
    },
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      fake.url = `http://${urlHost}:${port}/v1`;
      resolve(fake);
    });
  });
}
