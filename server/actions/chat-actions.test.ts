import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import type { FakeShop } from '../test/fake-shop.js';
import { readSse } from '../test/sse.js';
import { connectWidget, send } from '../test/widget-client.js';
import type { MessageDto } from '../../shared/schemas/chat.js';
import { startShopBot, type ShopBot } from '../test/shop-bot.js';
import type { TestApp, TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

interface ChatData {
  response: string;
  conversationId: string;
  messageId: string;
  finishReason: string;
  tokensUsed: { total: number };
  requiresAction?: { token: string; action: string; arguments: unknown };
}
interface Transcript {
  messages: Array<{
    role: string;
    content: string;
    status: string;
    pendingAction?: unknown;
    toolCalls?: Array<{ name: string; status: string; result: unknown }>;
  }>;
}

describe('actions in the chat turn', () => {
  let running: ShopBot;
  let fake: FakeLlm;
  let shop: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let identitySecret: string;
  const completed: Array<{ messageId: string; text: string }> = [];

  beforeAll(async () => {
    running = await startShopBot('Chat actions', 'chat-shop', {
      // A cancellation with a body of its own, whose description names the order.
      cancelOrder: (shopUrl) => ({
        description: 'Cancel order 1001',
        request: {
          method: 'POST',
          url: `${shopUrl}/api/orders/{params.orderNumber}/cancel`,
          body: { reason: 'customer' },
        },
      }),
      actions: (shopUrl) => [
        {
          name: 'order_status',
          description: 'Status of one of the signed-in customer’s orders',
          parameters: {
            type: 'object',
            properties: { orderNumber: { type: 'string' } },
            required: ['orderNumber'],
          },
          request: {
            method: 'GET',
            url: `${shopUrl}/api/orders/{params.orderNumber}`,
            query: { email: '{user.email}' },
          },
          auth: { type: 'header', name: 'X-Shop-Token', value: 'shop-secret' },
          requiresUser: true,
          responseFields: ['status', 'trackingUrl'],
        },
      ],
    });
    ({ fake, shop, t, org, botId, identitySecret } = running);
    t.app.services.events.subscribe('answer.completed', (event) => void completed.push(event));
  });
  beforeEach(() => {
    completed.length = 0;
    fake.reset();
    shop.reset();
  });
  afterAll(() => running?.stop());

  const userToken = () => signUserToken(identitySecret, { sub: 'cust-7', email: 'ada@example.com' });
  const chat = (body: Record<string, unknown>) => org.api.post<ChatData>('/api/v1/chat', { chatbotId: botId, ...body });
  const ASK_ORDER = 'Where is my order? #tool:order_status {"orderNumber":"1001"}';

  it('looks up an order for the identified visitor, answers from the result and keeps the call in the transcript', async () => {
    const res = await chat({ message: ASK_ORDER, userToken: await userToken() });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toContain('Tool result:');
    expect(res.body.data.response).toContain('shipped');
    expect(res.body.data.response).not.toContain('internalNote');
    expect(res.body.data.tokensUsed.total).toBeGreaterThan(0);
    expect(shop.requests).toHaveLength(1);
    expect(shop.requests[0]!.target).toBe('/api/orders/1001?email=ada%40example.com');
    expect(shop.requests[0]!.headers['x-shop-token']).toBe('shop-secret');

    const transcript = await org.api.get<Transcript>(`/api/v1/conversations/${res.body.data.conversationId}`);
    const answer = transcript.body.data.messages.find((m) => m.role === 'assistant');
    expect(answer?.toolCalls).toEqual([
      expect.objectContaining({
        name: 'order_status',
        status: 'succeeded',
        result: expect.objectContaining({ status: 'shipped' }),
      }),
    ]);
    expect(JSON.stringify(transcript.body)).not.toContain('shop-secret');
  });

  it('streams action started and finished events before the answer, without secrets', async () => {
    const res = await fetch(`${t.url}/api/v1/chat`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ chatbotId: botId, stream: true, message: ASK_ORDER, userToken: await userToken() }),
    });
    const events = await readSse(res);
    const actions = events
      .filter((e) => typeof e === 'object' && 'action' in e)
      .map((e) => (e as { action: unknown }).action);
    expect(actions).toEqual([
      { phase: 'started', name: 'order_status', status: null, durationMs: null },
      expect.objectContaining({ phase: 'finished', name: 'order_status', status: 'succeeded' }),
    ]);
    const done = events.find((e) => typeof e === 'object' && 'done' in e) as unknown as ChatData;
    expect(done.response).toContain('shipped');
    expect(JSON.stringify(events)).not.toContain('shop-secret');
  });

  it('refuses the call for a visitor who is not identified, and the model answers from the refusal', async () => {
    const res = await chat({ message: ASK_ORDER });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toContain('refused');
    expect(res.body.data.response).toContain('identified visitor');
    expect(shop.requests).toHaveLength(0);
  });

  interface Confirmation {
    status: string;
    messageId: string;
    answer: ChatData;
  }

  it('pauses for confirmation: a declined action is never sent, the bot answers from the refusal, and the token cannot then approve it', async () => {
    const res = await chat({ message: 'Cancel it #tool:cancel_order {"orderNumber":"1001"}' });
    expect(res.body.data.finishReason).toBe('requires_action');
    expect(res.body.data.requiresAction).toMatchObject({ action: 'cancel_order', arguments: { orderNumber: '1001' } });
    expect(shop.requests).toHaveLength(0);
    const paused = await org.api.get<Transcript>(`/api/v1/conversations/${res.body.data.conversationId}`);
    // Transcripts show what waits, never the token that answers it.
    expect(paused.body.data.messages.at(-1)?.pendingAction).toEqual({
      action: 'cancel_order',
      description: 'Cancel order 1001',
      arguments: { orderNumber: '1001' },
    });
    expect(JSON.stringify(paused.body)).not.toContain(res.body.data.requiresAction!.token);

    const token = res.body.data.requiresAction!.token;
    const declined = await org.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve: false });
    expect(declined.status).toBe(200);
    expect(declined.body.data.status).toBe('declined');
    expect(declined.body.data.answer).toMatchObject({ messageId: res.body.data.messageId, finishReason: 'stop' });
    expect(declined.body.data.answer.response).toContain('declined');
    const changed = await org.api.post<unknown>('/api/v1/chat/confirm', { token, approve: true });
    expect(changed.status).toBe(409);
    expect(JSON.stringify(changed.body)).toContain('already answered (declined)');
    // The same decision again replays the stored outcome and follow-up.
    const replayed = await org.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve: false });
    expect(replayed.status).toBe(200);
    expect(replayed.body.data).toEqual(declined.body.data);
    expect(shop.requests).toHaveLength(0);
    // One declined run, recorded as nothing sent.
    const runs = await t.app.models.ActionRun.find({ conversationId: res.body.data.conversationId }).lean();
    expect(runs).toEqual([
      expect.objectContaining({
        status: 'declined',
        error: 'declined by the visitor',
        arguments: { orderNumber: '1001' },
        idempotencyKey: null,
        httpStatus: null,
        createdAt: expect.any(Date),
      }),
    ]);
    const transcript = await org.api.get<
      Transcript & { messages: Array<{ content: string; pendingAction?: unknown }> }
    >(`/api/v1/conversations/${res.body.data.conversationId}`);
    const answer = transcript.body.data.messages.at(-1);
    expect(answer?.toolCalls).toEqual([expect.objectContaining({ name: 'cancel_order', status: 'declined' })]);
    expect(answer?.content).toContain('declined');
    expect(answer?.pendingAction).toBeUndefined();
  });

  it('runs an approved action once, then the turn goes on: the bot answers from its result on the same message', async () => {
    const res = await chat({ message: 'Cancel it #tool:cancel_order {"orderNumber":"1001"}' });
    const token = res.body.data.requiresAction!.token;
    const approved = await org.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve: true });
    expect(approved.body.data.status).toBe('succeeded');
    expect(shop.requests).toEqual([expect.objectContaining({ method: 'POST', target: '/api/orders/1001/cancel' })]);
    expect(JSON.parse(shop.requests[0]!.body)).toEqual({ reason: 'customer' });
    const followUp = approved.body.data.answer;
    expect(followUp.messageId).toBe(res.body.data.messageId);
    expect(followUp.finishReason).toBe('stop');
    expect(followUp.response).toContain('Tool result:');
    expect(followUp.response).toContain('succeeded');
    expect(followUp.requiresAction).toBeUndefined();
    // The follow-up's tokens are added to the paused turn's.
    expect(followUp.tokensUsed.total).toBeGreaterThan(res.body.data.tokensUsed.total);
    const transcript = await org.api.get<Transcript>(`/api/v1/conversations/${res.body.data.conversationId}`);
    expect(transcript.body.data.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(transcript.body.data.messages[1]).toMatchObject({ status: 'complete', content: followUp.response });
    expect(transcript.body.data.messages[1]!.toolCalls).toEqual([
      expect.objectContaining({ name: 'cancel_order', status: 'succeeded' }),
    ]);
    // The turn completes once, when answered: subscribers (webhooks, the gap log) see the final answer only.
    await t.app.services.events.settled();
    const completions = completed.filter((e) => e.messageId === res.body.data.messageId);
    expect(completions).toEqual([expect.objectContaining({ text: followUp.response })]);
  });

  it('streams an approval: the action events, then the follow-up answer, without secrets', async () => {
    const res = await chat({ message: 'Cancel it #tool:cancel_order {"orderNumber":"1001"}' });
    const stream = await fetch(`${t.url}/api/v1/chat/confirm`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ token: res.body.data.requiresAction!.token, approve: true, stream: true }),
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(stream);
    const kinds = events.map((e) => (typeof e === 'string' ? e : Object.keys(e)[0]));
    expect(kinds[0]).toBe('action');
    expect(kinds[1]).toBe('action');
    expect(kinds.at(-1)).toBe('[DONE]');
    expect(events.filter((e) => typeof e === 'object' && 'action' in e)).toEqual([
      { action: { phase: 'started', name: 'cancel_order', status: null, durationMs: null } },
      { action: expect.objectContaining({ phase: 'finished', name: 'cancel_order', status: 'succeeded' }) },
    ]);
    const text = events
      .filter((e) => typeof e === 'object' && 'chunk' in e)
      .map((e) => (e as { chunk: string }).chunk)
      .join('');
    const done = events.find((e) => typeof e === 'object' && 'done' in e) as unknown as ChatData;
    expect(done.response).toBe(text);
    expect(done.response).toContain('succeeded');
    expect(done.messageId).toBe(res.body.data.messageId);
    expect(shop.requests).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('shop-secret');
  });

  it('keeps the approved action’s outcome when the model fails on the follow-up: 503, the answer failed, the run stored once; the same confirmation again resumes it unsent', async () => {
    const res = await chat({ message: 'Cancel it #tool:cancel_order {"orderNumber":"1001"}' });
    fake.failAlways(500);
    const approved = await org.api.post('/api/v1/chat/confirm', {
      token: res.body.data.requiresAction!.token,
      approve: true,
    });
    expect(approved.status).toBe(503);
    expect(shop.requests).toHaveLength(1);
    const transcript = await org.api.get<Transcript>(`/api/v1/conversations/${res.body.data.conversationId}`);
    const answer = transcript.body.data.messages.at(-1);
    expect(answer?.status).toBe('failed');
    expect(answer?.pendingAction).toBeUndefined();
    expect(answer?.toolCalls).toEqual([expect.objectContaining({ name: 'cancel_order', status: 'succeeded' })]);
    // The same confirmation retried resumes it: the stored outcome is reused (the action is not sent again) and
    // the follow-up is written.
    fake.reset();
    const again = await org.api.post<Confirmation>('/api/v1/chat/confirm', {
      token: res.body.data.requiresAction!.token,
      approve: true,
    });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ status: 'succeeded', messageId: res.body.data.messageId });
    expect(again.body.data.answer.response).toContain('succeeded');
    expect(shop.requests).toHaveLength(1);
  });

  it('answers a spent or unknown token with 404 before streaming', async () => {
    const res = await fetch(`${t.url}/api/v1/chat/confirm`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ token: 'not-a-real-token-at-all', approve: true, stream: true }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { name: string } }).error.name).toBe('NotFoundError');
  });

  it('in the widget: the answer names the waiting action, the visitor approves it and the follow-up streams on the same message', async () => {
    const { socket } = await connectWidget(t.url, { bot: botId });
    const other = await connectWidget(t.url, { bot: botId });
    try {
      const done = (client: typeof socket) =>
        new Promise<MessageDto>((resolve) => client.once('chat:done', ({ message }) => resolve(message)));
      const paused = done(socket);
      const sent = await send(socket, 'Cancel it #tool:cancel_order {"orderNumber":"1001"}');
      const answer = await paused;
      expect(answer.id).toBe(sent.data!.assistantMessageId);
      expect(answer.pendingAction).toEqual({
        action: 'cancel_order',
        description: 'Cancel order 1001',
        arguments: { orderNumber: '1001' },
      });
      expect(JSON.stringify(answer)).not.toContain('token');

      // Another visitor cannot answer it, and nothing runs.
      const stranger = await other.socket.emitWithAck('chat:confirm', { messageId: answer.id, approve: true });
      expect(stranger.error?.name).toBe('NotFoundError');
      expect(shop.requests).toHaveLength(0);

      const chunks: string[] = [];
      socket.on('chat:chunk', (chunk) => {
        if (chunk.messageId === answer.id) chunks.push(chunk.text);
      });
      const followUp = done(socket);
      const ack = await socket.emitWithAck('chat:confirm', { messageId: answer.id, approve: true });
      expect(ack.data).toEqual({ messageId: answer.id, status: 'succeeded' });
      const final = await followUp;
      expect(final.id).toBe(answer.id);
      expect(final.content).toContain('succeeded');
      expect(chunks.join('')).toBe(final.content);
      expect(final.pendingAction).toBeUndefined();
      expect(final.toolCalls).toEqual([expect.objectContaining({ name: 'cancel_order', status: 'succeeded' })]);
      expect(shop.requests).toHaveLength(1);

      // Pressed again: the stored outcome and follow-up are replayed, nothing runs; the other choice is refused.
      const replayed = done(socket);
      const again = await socket.emitWithAck('chat:confirm', { messageId: answer.id, approve: true });
      expect(again.data).toEqual({ messageId: answer.id, status: 'succeeded' });
      expect((await replayed).content).toBe(final.content);
      const changed = await socket.emitWithAck('chat:confirm', { messageId: answer.id, approve: false });
      expect(changed.error?.name).toBe('ConflictError');
      expect(shop.requests).toHaveLength(1);
    } finally {
      socket.close();
      other.socket.close();
    }
  });
});
