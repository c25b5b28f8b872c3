import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformFakes, type PlatformFakes } from '../server/channels/test/platform-fakes.js';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { killAndRestart, stallModel } from './support/shop-fault.js';
import { waitFor, WispServer } from './support/wisp-server.js';

const TOKEN = '444444:AAFaultTestToken';

describe('kill -9 of the server while a channel message is being answered', () => {
  let fake: FakeLlm;
  let fakes: PlatformFakes;
  let wisp: WispServer;

  beforeAll(async () => {
    [fake, fakes] = await Promise.all([startFakeLlm(), startPlatformFakes()]);
    fakes.acceptToken(TOKEN);
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ALLOW_PRIVATE_URLS: 'true',
      TELEGRAM_API_BASE_URL: fakes.telegramUrl,
      ANSWER_LEASE_MS: '2000',
      CHANNEL_REPLY_LEASE_MS: '2000',
      CHANNEL_REPLY_BACKOFF_MS: '100',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await Promise.all([fake.stop(), fakes.stop()]);
  });

  it('answers the acknowledged message after the restart, once', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    const channel = await wisp.api.post<{ id: string }>(`/api/v1/chatbots/${chatbotId}/channels`, {
      type: 'telegram',
      credentials: { botToken: TOKEN },
    });
    expect(channel.status).toBe(201);
    const secret = String(fakes.callsOf('setWebhook')[0]?.body.secret_token);
    // The model hangs, so the process dies with the turn in flight.
    const stalled = stallModel(fake);
    const update = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, text: 'Still there?', from: { id: 7, first_name: 'Ada' }, chat: { id: 7 } },
    });
    const acknowledged = await wisp.api.request('POST', `/api/v1/channels/${channel.body.data.id}/events`, update, {
      'x-telegram-bot-api-secret-token': secret,
    });
    expect(acknowledged.status).toBe(200);
    await stalled.untilAsked();
    await killAndRestart({ wisp, fake });

    const replies = () => fakes.callsOf('sendMessage').filter((call) => call.body.text === 'Echo: Still there?');
    await waitFor(
      async () => replies().length,
      (count) => count > 0,
      60_000,
    );
    const conversations = await wisp.api.get<Array<{ id: string; channel: string }>>('/api/v1/conversations');
    expect(conversations.body.data.map((c) => c.channel)).toEqual(['telegram']);
    const messages = await wisp.messages(conversations.body.data[0]!.id);
    expect(messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    // The same update delivered again by Telegram after the restart is not answered twice.
    await wisp.api.request('POST', `/api/v1/channels/${channel.body.data.id}/events`, update, {
      'x-telegram-bot-api-secret-token': secret,
    });
    expect(replies()).toHaveLength(1);
  }, 240_000);
});
