import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';

const ACCESS_TOKEN = 'EAAG-whatsapp-access-token';
const APP_SECRET = 'whatsapp-app-secret';
const VERIFY_TOKEN = 'my-verify-token';
const PHONE_NUMBER_ID = '1065550100';

const signature = (body: string, secret = APP_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

let seq = 0;
/** A Cloud API delivery of one text message, as Meta sends it. */
function delivery(text: string) {
  seq += 1;
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA1',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100', phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name: 'Lin' }, wa_id: '4915112345678' }],
              messages: [
                {
                  from: '4915112345678',
                  id: `wamid.IN${seq}`,
                  timestamp: '1700000000',
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

describe('whatsapp channel', () => {
  let h: ChannelHarness;
  let channelId: string;

  const repliesTo = (text: string) =>
    h.fakes
      .callsOf('messages')
      .filter((call) => (call.body.text as { body?: string } | undefined)?.body === `Echo: ${text}`);
  const deliver = (body: string, sig = signature(body)) =>
    h.deliver(channelId, body, { 'content-type': 'application/json', 'x-hub-signature-256': sig });

  beforeAll(async () => {
    h = await startChannelHarness();
    h.fakes.acceptToken(ACCESS_TOKEN);
    const created = await h.org.api.post<{ id: string }>(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'whatsapp',
      credentials: {
        accessToken: ACCESS_TOKEN,
        appSecret: APP_SECRET,
        verifyToken: VERIFY_TOKEN,
        phoneNumberId: PHONE_NUMBER_ID,
      },
    });
    expect(created.status).toBe(201);
    channelId = created.body.data.id;
  });
  afterAll(() => h.stop());

  it("echoes hub.challenge only for the channel's verify token", async () => {
    const path = `/api/v1/channels/${channelId}/events`;
    const ok = await fetch(
      `${h.t.url}${path}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${h.t.url}${path}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  it('answers a signed text message with a Cloud API text message, once even when delivered twice', async () => {
    const body = delivery('Is the store open on Sunday?');
    expect((await deliver(body)).status).toBe(200);
    expect((await deliver(body)).status).toBe(200);
    await vi.waitFor(() => expect(repliesTo('Is the store open on Sunday?')).toHaveLength(1), { timeout: 10_000 });
    const reply = repliesTo('Is the store open on Sunday?')[0]!;
    expect(reply.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(reply.body).toMatchObject({ messaging_product: 'whatsapp', to: '4915112345678', type: 'text' });
    const next = delivery('Thanks!');
    await deliver(next);
    await vi.waitFor(() => expect(repliesTo('Thanks!')).toHaveLength(1), { timeout: 10_000 });
    expect(repliesTo('Is the store open on Sunday?')).toHaveLength(1);
    const conversations = await h.org.api.get<Array<{ channel: string; visitorId: string; metadata: unknown }>>(
      `/api/v1/conversations?chatbotId=${h.botId}`,
    );
    expect(conversations.body.data).toEqual([
      expect.objectContaining({ channel: 'whatsapp', visitorId: 'whatsapp:4915112345678' }),
    ]);
  });

  it('asks for a rating with reply buttons after an answer and takes a button reply as its feedback', async () => {
    expect((await deliver(delivery('Rate me please'))).status).toBe(200);
    await vi.waitFor(() => expect(repliesTo('Rate me please')).toHaveLength(1), { timeout: 10_000 });
    const answerCall = h.fakes.calls.indexOf(repliesTo('Rate me please')[0]!);
    // The rating question follows the answer to the same person.
    const question = await vi.waitFor(
      () => {
        const asked = h.fakes.calls.slice(answerCall).find((call) => call.body.type === 'interactive');
        expect(asked).toBeDefined();
        return asked!;
      },
      { timeout: 10_000 },
    );
    expect(question.body).toMatchObject({ to: '4915112345678', interactive: { type: 'button' } });
    const questionId = (question.result as { messages: Array<{ id: string }> }).messages[0]!.id;
    const job = async () => h.t.app.models.ChannelEvent.findOne({ channelId, text: 'Rate me please' }).lean();
    await vi.waitFor(async () => expect((await job())?.deliveredRef).toBe(questionId), { timeout: 10_000 });

    const press = (buttonId: string, context = questionId) => {
      seq += 1;
      return JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'WABA1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550100', phone_number_id: PHONE_NUMBER_ID },
                  contacts: [{ profile: { name: 'Lin' }, wa_id: '4915112345678' }],
                  messages: [
                    {
                      context: { from: '15550100', id: context },
                      from: '4915112345678',
                      id: `wamid.IN${seq}`,
                      timestamp: '1700000000',
                      type: 'interactive',
                      interactive: { type: 'button_reply', button_reply: { id: buttonId, title: 'x' } },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
    };
    const rating = async () =>
      (await h.t.app.models.Message.findById((await job())?.answer?.messageId).lean())?.feedback;
    expect((await deliver(press('wisp:down'))).status).toBe(200);
    expect((await rating())?.rating).toBe('down');
    expect((await deliver(press('wisp:up'))).status).toBe(200);
    expect((await rating())?.rating).toBe('up');
    // A reply to anything but the rating question rates nothing, and nothing is answered for it.
    const events = await h.storedEvents(channelId);
    expect((await deliver(press('wisp:down', 'wamid.UNKNOWN'))).status).toBe(200);
    expect((await rating())?.rating).toBe('up');
    expect(await h.storedEvents(channelId)).toBe(events);
  });

  it('refuses a delivery with a bad X-Hub-Signature-256 with 401 and stores nothing', async () => {
    const before = await h.storedEvents(channelId);
    const body = delivery('forged');
    expect((await deliver(body, signature(body, 'another-secret'))).status).toBe(401);
    expect((await deliver(body, '')).status).toBe(401);
    expect(await h.storedEvents(channelId)).toBe(before);
  });

  it('turns disconnected when the access token stops working', async () => {
    h.fakes.revokeToken(ACCESS_TOKEN);
    await deliver(delivery('Hello?'));
    await vi.waitFor(
      async () =>
        expect((await h.org.api.get<{ status: string }>(`/api/v1/channels/${channelId}`)).body.data.status).toBe(
          'disconnected',
        ),
      { timeout: 10_000 },
    );
    await vi.waitFor(() => expect(h.disconnections.map((event) => event.type)).toEqual(['whatsapp']), {
      timeout: 10_000,
    });
  });
});
