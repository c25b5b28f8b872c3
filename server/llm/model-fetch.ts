import { Agent, fetch as undiciFetch, request, type Dispatcher } from 'undici';

/** What {@link modelFetch} sends through undici's `request`; anything else goes through undici's `fetch`. */
type ModelRequestInit = RequestInit & { body?: string | null };

/**
 * The OpenAI client's `fetch` for chat completions: undici's `request` on a keep-alive agent, answered as a
 * node-fetch style response (the body a Node stream, which the openai package iterates directly, as it does
 * node-fetch's). The client's requests to the model are a string body with headers, so they skip what a WHATWG
 * `fetch` costs per call: the `Request` object, the fetch controller and a web stream between the socket and the
 * SSE parser, about half the client's CPU per streamed completion. Unlike `fetch`, it asks for the response
 * uncompressed (`accept-encoding: identity`; nothing here would decompress it) and follows no redirect (the answer
 * is the provider's status, as for the server's other outbound calls). Any other request (a `Request` object, a
 * stream or form body) goes through undici's `fetch` on the same agent. `beforeRequest` may throw to refuse a URL
 * before anything is sent.
 */
export function modelFetch(
  options: { dispatcher?: Dispatcher; beforeRequest?: (url: URL) => void } = {},
): typeof fetch {
  const dispatcher = options.dispatcher ?? new Agent();
  const send = async (input: string | URL | Request, init: ModelRequestInit = {}) => {
    if (options.beforeRequest) options.beforeRequest(new URL(input instanceof Request ? input.url : input));
    if (input instanceof Request || (init.body != null && typeof init.body !== 'string')) {
      return undiciFetch(input as Parameters<typeof undiciFetch>[0], {
        ...(init as Parameters<typeof undiciFetch>[1]),
        dispatcher,
      });
    }
    const url = String(input);
    const sent: string[] = [];
    const given = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    for (const [name, value] of given) if (name !== 'accept-encoding') sent.push(name, value);
    sent.push('accept-encoding', 'identity');
    const { statusCode, headers, body } = await request(url, {
      dispatcher,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: sent,
      body: init.body ?? null,
      signal: init.signal ?? undefined,
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const each of value) responseHeaders.append(name, each);
      else if (value !== undefined) responseHeaders.append(name, value);
    }
    return new StreamedResponse(statusCode, url, responseHeaders, body);
  };
  return send as unknown as typeof fetch;
}

/**
 * A node-fetch style response: what the openai package reads of one (`ok`, `status`, `headers`, `url`, `text()`,
 * `json()`) and a body it iterates as a Node stream.
 */
class StreamedResponse {
  readonly statusText = '';

  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: Headers,
    readonly body: Dispatcher.ResponseData['body'],
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.body.bodyUsed;
  }

  text(): Promise<string> {
    return this.body.text();
  }

  json(): Promise<unknown> {
    return this.body.json();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.body.arrayBuffer();
  }
}
