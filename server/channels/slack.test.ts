import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';

const BOT_TOKEN = 'xoxb-test-bot-token';
const SIGNING_SECRET = 'slack-signing-secret-for-tests';

/** Signs as Slack does: `v0=` + HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret. */
function slackHeaders(body: string, secret = SIGNING_SECRET, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${signature}`,
  };
}

let eventSeq = 0;
const messageEvent = (text: string, extra: Record<string, unknown> = {}) => {
  eventSeq += 1;
  return JSON.stringify({
    type: 'event_callback',
    team_id: 'T1',
    event_id: `Ev${eventSeq}`,
    event: { type: 'message', channel: 'C1', user: 'U42', text, ts: `1700000000.00${eventSeq}`, ...extra },
  });
};

describe('slack channel', () => {
  let h: ChannelHarness;
  let channelId: string;

  const postsFor = (text: string) =>
    h.fakes.callsOf('chat.postMessage').filter((call) => call.body.text === `Echo: ${text}`);

  beforeAll(async () => {
    h = await startChannelHarness();
    h.fakes.acceptToken(BOT_TOKEN);
    const created = await h.org.api.post<{ id: string }>(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'slack',
      credentials: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
    });
    expect(created.status).toBe(201);
    channelId = created.body.data.id;
    expect(h.fakes.callsOf('auth.test')[0]?.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
  });
  afterAll(() => h.stop());

  it('answers the url_verification challenge', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'legacy' });
    const res = await h.deliver(channelId, body, slackHeaders(body));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ challenge: 'c-123' });
  });

  it('answers a message in its thread with chat.postMessage, once even when Slack retries', async () => {
    const body = messageEvent('How do I reset my password?');
    expect((await h.deliver(channelId, body, slackHeaders(body))).status).toBe(200);
    const retry = await h.deliver(channelId, body, {
      ...slackHeaders(body),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(retry.status).toBe(200);
    await vi.waitFor(() => expect(postsFor('How do I reset my password?')).toHaveLength(1), { timeout: 10_000 });
    const post = postsFor('How do I reset my password?')[0]!;
    expect(post.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(post.body).toMatchObject({ channel: 'C1', thread_ts: `1700000000.00${eventSeq}` });

    const next = messageEvent('And my username?');
    await h.deliver(channelId, next, slackHeaders(next));
    await vi.waitFor(() => expect(postsFor('And my username?')).toHaveLength(1), { timeout: 10_000 });
    expect(postsFor('How do I reset my password?')).toHaveLength(1);
  });

  it('takes a thumbs-up reaction on an answer as its feedback', async () => {
    const body = messageEvent('Rate me');
    await h.deliver(channelId, body, slackHeaders(body));
    await vi.waitFor(
      async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({ channelId, text: 'Rate me' }).lean();
        expect(job?.deliveredRef).toBeTruthy();
      },
      { timeout: 10_000 },
    );
    const job = await h.t.app.models.ChannelEvent.findOne({ channelId, text: 'Rate me' }).lean();
    const [channel, ts] = String(job?.deliveredRef).split(':');
    eventSeq += 1;
    const reaction = JSON.stringify({
      type: 'event_callback',
      team_id: 'T1',
      event_id: `Ev${eventSeq}`,
      event: { type: 'reaction_added', user: 'U42', reaction: '+1', item: { type: 'message', channel, ts } },
    });
    expect((await h.deliver(channelId, reaction, slackHeaders(reaction))).status).toBe(200);
    const answer = await h.t.app.models.Message.findById(job?.answer?.messageId).lean();
    expect(answer?.feedback?.rating).toBe('up');
  });

  it("ignores bots' own messages, so its answers never loop", async () => {
    const before = await h.storedEvents(channelId);
    const body = messageEvent('Echo: from the bot', { bot_id: 'B1', subtype: 'bot_message' });
    expect((await h.deliver(channelId, body, slackHeaders(body))).status).toBe(200);
    expect(await h.storedEvents(channelId)).toBe(before);
  });

  it('refuses a wrong signature or an old timestamp with 401 and stores nothing', async () => {
    const before = await h.storedEvents(channelId);
    const body = messageEvent('forged');
    expect((await h.deliver(channelId, body, slackHeaders(body, 'wrong-secret'))).status).toBe(401);
    const old = await h.deliver(
      channelId,
      body,
      slackHeaders(body, SIGNING_SECRET, Math.floor(Date.now() / 1000) - 600),
    );
    expect(old.status).toBe(401);
    expect(await h.storedEvents(channelId)).toBe(before);
  });

  it('turns disconnected when Slack says the token was revoked', async () => {
    h.fakes.revokeToken(BOT_TOKEN);
    const body = messageEvent('Anyone there?');
    await h.deliver(channelId, body, slackHeaders(body));
    await vi.waitFor(
      async () => {
        const got = await h.org.api.get<{ status: string; statusReason: string }>(`/api/v1/channels/${channelId}`);
        expect(got.body.data).toMatchObject({ status: 'disconnected' });
        expect(got.body.data.statusReason).toContain('invalid_auth');
      },
      { timeout: 10_000 },
    );
    await vi.waitFor(() => expect(h.disconnections.map((event) => event.type)).toEqual(['slack']), { timeout: 10_000 });
  });
});
