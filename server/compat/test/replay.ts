/** One example request of a source document, as its curl line shows it; only the host and key are swapped. */
export interface ExampleRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path and query exactly as in the example (after placeholders such as ids are filled in). */
  path: string;
  /** The `-H` headers of the example; `YOUR_API_KEY` (or another key placeholder) is replaced by `key`. */
  headers?: Record<string, string>;
  /** The `-d` body, character for character. */
  body?: string;
}

export interface Replayed {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or null when it was not JSON (e.g. a stream). */
  json: Record<string, unknown> | null;
}

const KEY_PLACEHOLDERS = /YOUR_API_KEY|sk_live_your_api_key_here|sk_live_your_key_here/g;

/** Sends an example request to the real server as curl would. */
export async function replay(baseUrl: string, key: string, example: ExampleRequest): Promise<Replayed> {
  const headers = Object.fromEntries(
    Object.entries(example.headers ?? { Authorization: 'Bearer YOUR_API_KEY' }).map(([name, value]) => [
      name,
      value.replace(KEY_PLACEHOLDERS, key),
    ]),
  );
  // curl -d sends a form content type unless the example names one.
  if (example.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(baseUrl + example.path, { method: example.method, headers, body: example.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseJson(text) };
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Streams and other non-JSON bodies are read through `text`.
    return null;
  }
}
