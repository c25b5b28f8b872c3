import { linkSignalWithTimeout } from '../lib/linked-signal.js';
import { refusalIn } from '../net/guarded-fetch.js';

/**
 * A platform's answer that is not a success. `credentialsRejected` (401/403, a revoked or invalid token)
 * disconnects the channel; other failures are retried with backoff.
 */
export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    message: string,
    readonly options: {
      credentialsRejected: boolean;
      status: number | null;
      /** Never worth another try (e.g. an address the server may not connect to). */
      final?: boolean;
    },
  ) {
    super(message);
  }

  /** A refusal of this one message (a 4xx other than 408/429) is not retried; outages and rate limits are. */
  get retryable(): boolean {
    const { status } = this.options;
    if (this.options.credentialsRejected || this.options.final) return false;
    return status === null || status >= 500 || status === 408 || status === 429;
  }
}

const CALL_TIMEOUT_MS = 15_000;

/** Outbound calls to one platform: its base URL (configurable, so tests use loopback fakes) and a guarded fetch. */
export class PlatformHttp {
  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: typeof fetch,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Sends JSON and returns the parsed JSON answer. HTTP 401/403 reject the credentials; `rejected` lets an
   * adapter say so of a 200 answer too (Slack answers `{ ok: false, error: 'invalid_auth' }`).
   */
  async call(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string },
    platform: string,
  ): Promise<unknown> {
    const timeout = linkSignalWithTimeout(this.signal, CALL_TIMEOUT_MS);
    try {
      return await this.callWithin(url, init, platform, timeout.signal);
    } finally {
      timeout.release();
    }
  }

  /** The call, its answer read within `signal`'s time. */
  private async callWithin(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string },
    platform: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: init.method ?? 'POST',
        headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
        signal,
      });
    } catch (error) {
      const refusal = refusalIn(error);
      if (refusal)
        throw new PlatformError(`${platform} is at an address the server may not connect to (${refusal.message})`, {
          credentialsRejected: false,
          status: null,
          final: true,
        });
      throw new PlatformError(`${platform} could not be reached`, { credentialsRejected: false, status: null });
    }
    const text = await response.text().catch(() => '');
    const said = platformSays(text);
    if (response.status === 401 || response.status === 403)
      throw new PlatformError(`${platform} rejected the credentials (HTTP ${response.status}${said})`, {
        credentialsRejected: true,
        status: response.status,
      });
    if (!response.ok)
      throw new PlatformError(`${platform} answered HTTP ${response.status}${said}`, {
        credentialsRejected: false,
        status: response.status,
      });
    try {
      return text ? (JSON.parse(text) as unknown) : null;
    } catch {
      return null;
    }
  }
}

/** The platform's own words about a refusal (Telegram `description`, Graph API `error.message`), kept short. */
function platformSays(text: string): string {
  try {
    const body = JSON.parse(text) as { description?: unknown; error?: { message?: unknown } | unknown };
    const error = body.error as { message?: unknown } | undefined;
    const words = typeof body.description === 'string' ? body.description : error?.message;
    return typeof words === 'string' && words ? `: ${words.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
