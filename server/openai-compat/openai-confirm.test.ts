import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeShop } from '../test/fake-shop.js';
import { startShopBot, type ShopBot } from '../test/shop-bot.js';
import type { TestApp, TestOrg } from '../test/test-app.js';
import { openAiClient } from './test/openai-client.js';

interface RequiresAction {
  token: string;
  action: string;
  description: string;
  arguments: unknown;
}
type WithWisp = { wisp?: { requires_action: RequiresAction | null; message_id: string } };

describe('a paused action through the OpenAI-compatible endpoint', () => {
  let running: ShopBot;
  let shop: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let client: OpenAI;

  beforeAll(async () => {
    running = await startShopBot('OpenAI confirm', 'shop');
    ({ shop, t, org } = running);
    client = openAiClient(t.url, org.adminKey);
  });
  afterAll(() => running?.stop());

  const confirm = (token: string, approve: boolean) =>
    fetch(`${t.url}/api/v1/chat/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token, approve }),
    });

  it('carries requires_action and its token in the wisp field; /api/v1/chat/confirm with the same key continues it once (deciding otherwise later is 409)', async () => {
    const completion = (await client.chat.completions.create({
      model: 'shop',
      messages: [{ role: 'user', content: 'Cancel it #tool:cancel_order {"orderNumber":"7007"}' }],
    })) as OpenAI.Chat.ChatCompletion & WithWisp;
    expect(completion.choices[0]!.message.content).toContain('please confirm');
    const pending = completion.wisp!.requires_action!;
    expect(pending).toMatchObject({ action: 'cancel_order', arguments: { orderNumber: '7007' } });
    expect(shop.requests).toHaveLength(0);

    const approved = await confirm(pending.token, true);
    expect(approved.status).toBe(200);
    const body = (await approved.json()) as {
      data: { status: string; answer: { response: string; messageId: string } };
    };
    expect(body.data.status).toBe('succeeded');
    expect(body.data.answer.response).toContain('Tool result:');
    expect(body.data.answer.messageId).toBe(completion.wisp!.message_id);
    expect(shop.requests.filter((r) => r.target === '/api/orders/7007/cancel')).toHaveLength(1);
    expect((await confirm(pending.token, false)).status).toBe(409);
    expect(shop.requests).toHaveLength(1);
  });

  it('streams it in the last chunk’s wisp field; an answer that does not pause has requires_action null', async () => {
    const stream = await client.chat.completions.create({
      model: 'shop',
      stream: true,
      messages: [{ role: 'user', content: 'Cancel it #tool:cancel_order {"orderNumber":"7008"}' }],
    });
    let last: WithWisp = {};
    for await (const chunk of stream) if ((chunk as WithWisp).wisp) last = chunk as WithWisp;
    expect(last.wisp?.requires_action).toMatchObject({ action: 'cancel_order', token: expect.any(String) });

    const plain = (await client.chat.completions.create({
      model: 'shop',
      messages: [{ role: 'user', content: 'Hello' }],
    })) as OpenAI.Chat.ChatCompletion & WithWisp;
    expect(plain.wisp?.requires_action).toBeNull();
  });
});
