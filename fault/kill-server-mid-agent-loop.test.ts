import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { killAndRestart } from './support/shop-fault.js';
import { waitFor, WispServer } from './support/wisp-server.js';

interface Execution {
  id: string;
  status: string;
  attempts: number;
  interruptions: number;
  output: string | null;
  error: string | null;
  steps: Array<{ type: string; name: string | null; status: string }>;
}

interface Run {
  status: string;
  source: string;
  sends: number;
  idempotencyKey: string | null;
}

/**
 * A loopback order service the loop's action calls, honouring `Idempotency-Key` as payment and order APIs do:
 * the first request with a key takes effect (the order is "processed") and its answer is kept; a repeat of the
 * key gets that answer again and does nothing more. Orders named in `hangFirst` get no answer to their first
 * request, those in `hangAlways` to none (the effect has happened, the answer is lost): the execution is mid-run,
 * inside its tool call, for as long as the test wants. Requests are counted by order and by key, effects by order.
 */
class OrderService {
  readonly requests = new Map<string, number>();
  readonly requestsByKey = new Map<string, number>();
  readonly effects = new Map<string, number>();
  readonly hangFirst = new Set<string>();
  readonly hangAlways = new Set<string>();
  /** Called as each request arrives, before it is answered. */
  onRequest: (order: string) => void = () => undefined;
  private readonly keysByOrder = new Map<string, Set<string>>();
  private readonly answers = new Map<string, string>();
  private readonly held: ServerResponse[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OrderService> {
    let service: OrderService | null = null;
    const server = createServer((req, res) => service!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    service = new OrderService(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return service;
  }

  count(order: string): number {
    return this.requests.get(order) ?? 0;
  }

  /** The distinct idempotency keys the order's requests carried. */
  keys(order: string): string[] {
    return [...(this.keysByOrder.get(order) ?? [])];
  }

  effectsOf(order: string): number {
    return this.effects.get(order) ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const order = /^\/orders\/(\w+)/.exec(req.url ?? '')?.[1] ?? '';
    const key = req.headers['idempotency-key'];
    const seen = this.count(order) + 1;
    this.requests.set(order, seen);
    this.onRequest(order);
    if (typeof key === 'string') {
      this.requestsByKey.set(key, (this.requestsByKey.get(key) ?? 0) + 1);
      this.keysByOrder.set(order, new Set([...this.keys(order), key]));
    }
    let answer = typeof key === 'string' ? this.answers.get(key) : undefined;
    if (answer === undefined) {
      // The effect, once per key (every time for a request without one).
      this.effects.set(order, this.effectsOf(order) + 1);
      answer = JSON.stringify({ order, status: 'shipped' });
      if (typeof key === 'string') this.answers.set(key, answer);
    }
    if (this.hangAlways.has(order) || (this.hangFirst.has(order) && seen === 1)) {
      this.held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('kill -9 of the server while agent-loop executions run', () => {
  let fake: FakeLlm;
  let orders: OrderService;
  let wisp: WispServer;

  beforeAll(async () => {
    [fake, orders] = await Promise.all([startFakeLlm(), OrderService.start()]);
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
      // A killed run's lease runs out soon after the restart.
      AGENT_LOOP_LEASE_MS: '2000',
      AGENT_LOOP_POLL_MS: '100',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await Promise.all([fake.stop(), orders.stop()]);
  });

  /** Gives the bot an action that calls the order service for one order; returns the action's id. */
  const addOrderAction = async (chatbotId: string, name: string, description: string) => {
    const action = await wisp.api.post<{ id: string }>(`/api/v1/chatbots/${chatbotId}/actions`, {
      name,
      description,
      parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] },
      request: { method: 'GET', url: `${orders.url}/orders/{params.order}` },
      timeoutMs: 30_000,
    });
    expect(action.status).toBe(201);
    return action.body.data.id;
  };

  it('retries a cut execution once (interrupted, then completed), and ends one cut twice as interrupted; none is lost or run again', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Loops');
    const actionId = await addOrderAction(chatbotId, 'order_lookup', 'Looks up an order');
    const loopFor = async (order: string) => {
      const res = await wisp.api.post<{ id: string }>('/api/v1/agent-loops', {
        name: `Check order ${order}`,
        chatbotId,
        instructions: `Check the order #tool:order_lookup {"order":"${order}"}`,
        tools: [actionId],
      });
      expect(res.status).toBe(201);
      return res.body.data.id;
    };
    const [onceLoop, twiceLoop] = [await loopFor('once'), await loopFor('twice')];
    orders.hangFirst.add('once');
    orders.hangAlways.add('twice');

    const run = async (loopId: string) => {
      const res = await wisp.api.post<Execution>(`/api/v1/agent-loops/${loopId}/run`, { input: {} });
      expect(res.status).toBe(202);
      return res.body.data.id;
    };
    const once = await run(onceLoop);
    const twice = await run(twiceLoop);
    const execution = async (id: string) => (await wisp.api.get<Execution>(`/api/v1/executions/${id}`)).body.data;

    // Both executions are inside their tool call when the server dies.
    await waitFor(
      async () => [orders.count('once'), orders.count('twice')],
      ([a, b]) => a === 1 && b === 1,
    );
    expect((await execution(once)).status).toBe('running');
    await killAndRestart({ wisp, fake });

    // The first comes back once and finishes; the second is inside its retry when the server dies again.
    const completed = await waitFor(
      () => execution(once),
      (e) => e.status === 'completed',
      60_000,
    );
    expect(completed).toMatchObject({ attempts: 2, interruptions: 1, error: null });
    expect(completed.output).toContain('shipped');
    // The cut attempt's steps are not kept beside the retry's: one tool call, one model answer.
    expect(completed.steps.map((s) => s.type)).toEqual(['tool', 'model']);
    await waitFor(
      async () => orders.count('twice'),
      (n) => n === 2,
      60_000,
    );
    expect(orders.count('once')).toBe(2);
    await killAndRestart({ wisp, fake });

    const ended = await waitFor(
      () => execution(twice),
      (e) => !['queued', 'running'].includes(e.status),
      60_000,
    );
    // Ended in one write: no reader sees it failed before it is marked interrupted; the claim that ended it is no attempt.
    expect(ended).toMatchObject({ status: 'interrupted', attempts: 2, interruptions: 2 });
    expect(ended.error).toContain('gave up');
    // Exactly one execution per run, and neither was run a third time.
    for (const loopId of [onceLoop, twiceLoop]) {
      const list = await wisp.api.get<Execution[]>(`/api/v1/agent-loops/${loopId}/executions`);
      expect(list.body.data).toHaveLength(1);
    }
    expect(orders.count('once')).toBe(2);
    expect(orders.count('twice')).toBe(2);
    expect(await execution(once)).toMatchObject({ status: 'completed', attempts: 2 });
    // Each call was resent with its first key, so the order service acted on each once.
    for (const order of ['once', 'twice']) {
      expect(orders.keys(order), order).toHaveLength(1);
      expect(orders.requestsByKey.get(orders.keys(order)[0]!), order).toBe(2);
      expect(orders.effectsOf(order), order).toBe(1);
    }
    // One run per call, written before it was sent: the resent one answered, the one cut twice is interrupted.
    const runs = await wisp.api.get<Run[]>(`/api/v1/actions/${actionId}/runs`);
    expect(runs.body.data).toHaveLength(2);
    expect(runs.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          status: 'succeeded',
          source: 'loop',
          sends: 2,
          idempotencyKey: orders.keys('once')[0],
        }),
        expect.objectContaining({
          status: 'interrupted',
          source: 'loop',
          sends: 2,
          idempotencyKey: orders.keys('twice')[0],
        }),
      ]),
    );
  }, 300_000);

  it('does not send a call again whose answer was stored before the kill, nor ask the model again for it', async () => {
    const chatbotId = await wisp.createBot('Stored');
    const actionId = await addOrderAction(chatbotId, 'order_update', 'Marks an order processed');
    const loop = await wisp.api.post<{ id: string }>('/api/v1/agent-loops', {
      name: 'Process order stored',
      chatbotId,
      instructions: 'Process the order #tool:order_update {"order":"stored"}',
      tools: [actionId],
    });
    expect(loop.status).toBe(201);
    // The order service answers; the model then goes silent on the next step: the server dies after the call's
    // answer is stored, before the loop ends.
    orders.onRequest = (order) => {
      if (order === 'stored') fake.setLatency(600_000);
    };
    const modelCalls = () =>
      fake.calls.filter(
        (c) => c.path === '/v1/chat/completions' && JSON.stringify(c.body).includes('"order\\":\\"stored'),
      );
    // The model calls that asked it what to do from the instructions alone (the step that asks for the tool).
    const fromScratch = () =>
      modelCalls().filter((c) => (c.body as { messages: Array<{ role: string }> }).messages.at(-1)?.role === 'user');
    const run = await wisp.api.post<Execution>(`/api/v1/agent-loops/${loop.body.data.id}/run`, { input: {} });
    expect(run.status).toBe(202);
    // The step after the call: its prompt holds the tool's result.
    await waitFor(
      async () => modelCalls().filter((c) => JSON.stringify(c.body).includes('shipped')).length,
      (n) => n === 1,
      60_000,
    );
    expect(modelCalls()).toHaveLength(2);
    await killAndRestart({ wisp, fake }, () => {
      orders.onRequest = () => undefined;
    });

    const done = await waitFor(
      async () => (await wisp.api.get<Execution>(`/api/v1/executions/${run.body.data.id}`)).body.data,
      (e) => !['queued', 'running'].includes(e.status),
      60_000,
    );
    expect(done).toMatchObject({ status: 'completed', attempts: 2, interruptions: 1 });
    expect(done.output).toContain('shipped');
    expect(done.steps.map((s) => s.type)).toEqual(['tool', 'model']);
    // Sent once, acted on once; the model was asked for the call once (the retry resumed after it).
    expect(orders.count('stored')).toBe(1);
    expect(orders.effectsOf('stored')).toBe(1);
    expect(fromScratch()).toHaveLength(1);
    expect(modelCalls()).toHaveLength(3);
    const runs = await wisp.api.get<Run[]>(`/api/v1/actions/${actionId}/runs`);
    expect(runs.body.data).toEqual([
      expect.objectContaining({ status: 'succeeded', sends: 1, idempotencyKey: orders.keys('stored')[0] }),
    ]);
  }, 300_000);
});
