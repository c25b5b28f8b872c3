import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake shop received, as it arrived on the wire. */
export interface ShopRequest {
  method: string;
  /** The raw request target: path and query exactly as sent. */
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeShop {
  url: string;
  requests: ShopRequest[];
  /** The next answers, by path prefix; the default answers an order. */
  answer(pathPrefix: string, status: number, body: unknown, headers?: Record<string, string>): void;
  /**
   * Requests that took effect, by path prefix. The shop honours `Idempotency-Key` as payment and order APIs do:
   * a repeat of a key it has seen gets the first answer again and takes no effect; a request without one always
   * takes effect.
   */
  effects(pathPrefix: string): number;
  /** Requests under `pathPrefix` take effect but get no answer until `release()` (the answer is lost in flight). */
  hold(pathPrefix: string): void;
  /** Ends held requests without an answer and stops holding. */
  release(): void;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * A loopback stand-in for a connected system (a shop, a billing or scheduling API): it records every request
 * and answers JSON, by default an order `{ status, trackingUrl, internalNote }` for `/api/orders/<n>`. It honours
 * `Idempotency-Key` (see `effects`).
 */
export async function startFakeShop(): Promise<FakeShop> {
  const requests: ShopRequest[] = [];
  let answers = new Map<string, { status: number; body: unknown; headers: Record<string, string> }>();
  let effects: string[] = [];
  let seenKeys = new Set<string>();
  let holding: string | null = null;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      requests.push({
        method: req.method ?? 'GET',
        target,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const path = target.split('?')[0]!;
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || !seenKeys.has(key)) effects.push(path);
      if (typeof key === 'string') seenKeys.add(key);
      if (holding !== null && path.startsWith(holding)) {
        held.push(res);
        return;
      }
      const match = [...answers.entries()].find(([prefix]) => path.startsWith(prefix));
      const reply = match?.[1] ?? {
        status: 200,
        body: {
          number: decodeURIComponent(path.split('/').pop() ?? ''),
          status: 'shipped',
          trackingUrl: 'https://track.example.com/XYZ',
          internalNote: 'never shown to the model',
        },
        headers: {},
      };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (prefix, status, body, headers = {}) => answers.set(prefix, { status, body, headers }),
    effects: (prefix) => effects.filter((path) => path.startsWith(prefix)).length,
    hold: (prefix) => void (holding = prefix),
    release: () => {
      holding = null;
      for (const res of held.splice(0)) res.destroy();
    },
    reset: () => {
      requests.length = 0;
      answers = new Map();
      effects = [];
      seenKeys = new Set();
      holding = null;
      for (const res of held.splice(0)) res.destroy();
    },
    stop: () =>
      new Promise((resolve) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
