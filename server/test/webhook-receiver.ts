import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, with what the `standardwebhooks` package made of its signature. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body when the signature verified with the receiver's secret, else null. */
  verified: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  verifyError: string | null;
  receivedAt: number;
}

/** What the receiver answers one request with: a status, or `hang` to never answer. */
export type Answer = number | 'hang';

/**
 * A real webhook receiver on loopback, as a customer would write one: it verifies every request with the
 * `standardwebhooks` package (signature and timestamp) and answers what the test tells it to.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides the answer to each request (by default 200); sees how many came before it. */
  answer: (request: ReceivedWebhook, index: number) => Answer = () => 200;
  private secret: string | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  url = '';

  static async start(path = '/hooks'): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}${path}`;
    return receiver;
  }

  /** The secret (`whsec_...`) signatures are verified with. */
  useSecret(secret: string): void {
    this.secret = secret;
  }

  /** Resolves once `count` requests matching `filter` have arrived; fails after `timeoutMs`. */
  async waitFor(
    count: number,
    filter: (request: ReceivedWebhook) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<ReceivedWebhook[]> {
    const matching = () => this.received.filter(filter);
    if (matching().length >= count) return matching();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`expected ${count} webhook requests, got ${matching().length}`));
      }, timeoutMs);
      const check = () => {
        if (matching().length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
    return matching();
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((request) => request.verified?.type === type);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const header = (name: string) => String(req.headers[name] ?? '');
    const request: ReceivedWebhook = {
      id: header('webhook-id'),
      timestamp: header('webhook-timestamp'),
      signature: header('webhook-signature'),
      body,
      verified: null,
      verifyError: null,
      receivedAt: performance.now(),
    };
    try {
      if (!this.secret) throw new Error('no secret set');
      request.verified = new Webhook(this.secret).verify(body, {
        'webhook-id': request.id,
        'webhook-timestamp': request.timestamp,
        'webhook-signature': request.signature,
      }) as ReceivedWebhook['verified'];
    } catch (error) {
      request.verifyError = (error as Error).message;
    }
    const answer = this.answer(request, this.received.length);
    this.received.push(request);
    for (const waiter of [...this.waiters]) waiter();
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
  }
}
