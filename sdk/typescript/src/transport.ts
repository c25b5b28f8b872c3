import { errorFromResponse, WispConnectionError, WispError, WispTimeoutError } from './errors.js';

/** How the client is set up. Only `apiKey` is required. */
export interface ClientOptions {
  /** An API key (`sk_live_…`). */
  apiKey: string;
  /** The Wisp server, e.g. `https://wisp.example.com` (default `http://127.0.0.1:3000`). */
  baseUrl?: string;
  /** Retries of a request answered 429 or 5xx, or that got no response (default 2). */
  maxRetries?: number;
  /** How long one attempt may wait for its response, in ms (default 60 000); a stream's body is not timed. */
  timeoutMs?: number;
  /** The first retry's delay in ms, doubled at each further one (default 500). */
  retryBaseDelayMs?: number;
  /** The longest the client waits before a retry, in ms (default 30 000): a longer `Retry-After` is not waited for. */
  maxRetryDelayMs?: number;
  /** A `fetch` of your own (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Per-request settings, the last argument of every method. */
export interface RequestOptions {
  /** Cancels the request (and a stream being read). */
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  /** The `Idempotency-Key` of a POST; generated when not given, and the same across its retries. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  /** A JSON body, or a `FormData` for uploads. */
  body?: unknown;
  /** Sends no `Idempotency-Key` (a streamed chat cannot be replayed; its `clientMessageId` makes retries safe). */
  noIdempotencyKey?: boolean;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/** Sends requests: authentication, JSON, timeouts, retries with backoff honouring `Retry-After`, typed errors. */
export class Transport {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    if (!options.apiKey) throw new TypeError('Wisp: apiKey is required');
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The parsed JSON body of a successful call. */
  async json<T>(call: Call, options: RequestOptions = {}): Promise<T> {
    return this.send(call, options, async (res) => (await res.json()) as T);
  }

  /** The text body of a successful call (e.g. a CSV export). */
  async text(call: Call, options: RequestOptions = {}): Promise<string> {
    return this.send(call, options, (res) => res.text());
  }

  /** The response of a successful call once its headers arrived; its body (a stream) is the caller's to read. */
  async stream(call: Call, options: RequestOptions = {}): Promise<Response> {
    return this.send(call, options, async (res) => res);
  }

  private async send<T>(call: Call, options: RequestOptions, read: (res: Response) => Promise<T>): Promise<T> {
    const maxRetries = options.maxRetries ?? this.options.maxRetries ?? 2;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.options.headers,
      ...options.headers,
      authorization: `Bearer ${this.options.apiKey}`,
    };
    const isForm = typeof FormData !== 'undefined' && call.body instanceof FormData;
    if (call.body !== undefined && !isForm) headers['content-type'] = 'application/json';
    // One key for every attempt: a retry of a POST the server already ran answers the first response.
    if (call.method === 'POST' && !call.noIdempotencyKey)
      headers['idempotency-key'] = options.idempotencyKey ?? crypto.randomUUID();
    const url = this.url(call.path, call.query);
    const body = call.body === undefined ? undefined : isForm ? (call.body as FormData) : JSON.stringify(call.body);

    for (let attempt = 0; ; attempt += 1) {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
      let failure: WispError;
      try {
        const res = await this.fetchFn(url, { method: call.method, headers, body, signal });
        if (res.ok) return await read(res);
        failure = await errorFromResponse(res);
        if (!RETRYABLE.has(res.status)) throw failure;
      } catch (error) {
        if (error instanceof WispError && !(error.status !== null && RETRYABLE.has(error.status))) throw error;
        if (options.signal?.aborted) throw options.signal.reason ?? error;
        failure =
          error instanceof WispError
            ? error
            : timeout.signal.aborted
              ? new WispTimeoutError(timeoutMs)
              : new WispConnectionError(`Could not reach ${this.baseUrl}: ${(error as Error).message}`, error);
      } finally {
        clearTimeout(timer);
      }
      const delay = this.retryDelay(attempt, failure);
      if (attempt >= maxRetries || delay === null) throw failure;
      await sleep(delay, options.signal);
    }
  }

  /** The wait before the next attempt: the server's `Retry-After`, else exponential backoff with jitter. */
  private retryDelay(attempt: number, failure: WispError): number | null {
    const max = this.options.maxRetryDelayMs ?? 30_000;
    if (failure.retryAfter !== null) {
      const ms = failure.retryAfter * 1000;
      // A wait longer than allowed (a monthly quota's) is not worth retrying.
      return ms > max ? null : ms;
    }
    const base = (this.options.retryBaseDelayMs ?? 500) * 2 ** attempt;
    return Math.min(max, base / 2 + Math.random() * (base / 2));
  }

  private url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }
}

/** A path segment, encoded. */
export const segment = (value: string) => encodeURIComponent(value);
