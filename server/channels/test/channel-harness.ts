import type { DomainEvents } from '../../events/domain-events.js';
import { startFakeLlm, type FakeLlm } from '../../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../../test/test-app.js';
import { startPlatformFakes, type PlatformFakes } from './platform-fakes.js';

export interface ChannelHarness {
  t: TestApp;
  fakes: PlatformFakes;
  llm: FakeLlm;
  org: TestOrg;
  botId: string;
  /** Every `channel.disconnected` published so far. */
  disconnections: Array<DomainEvents['channel.disconnected']>;
  /** POSTs a delivery to a channel's inbound URL exactly as given (the bytes its signature covers). */
  deliver(
    channelId: string,
    rawBody: string,
    headers: Record<string, string>,
  ): ReturnType<TestApp['anonymous']['request']>;
  /** How many inbound events a channel has stored. */
  storedEvents(channelId: string): Promise<number>;
  stop(): Promise<void>;
}

/** The app settings that point channels at the fake platforms and retry replies quickly. */
export function platformEnv(fakes: PlatformFakes): Record<string, string> {
  return {
    MODEL_MAX_RETRIES: '0',
    ALLOW_PRIVATE_URLS: 'true',
    TELEGRAM_API_BASE_URL: fakes.telegramUrl,
    SLACK_API_BASE_URL: fakes.slackUrl,
    WHATSAPP_API_BASE_URL: fakes.whatsappUrl,
    CHANNEL_REPLY_BACKOFF_MS: '50',
  };
}

/** The harness around an app started with `platformEnv` (e.g. a shop bot's); `stop` ends what was started. */
export function channelHarnessOf(parts: {
  t: TestApp;
  fakes: PlatformFakes;
  llm: FakeLlm;
  org: TestOrg;
  botId: string;
  stop(): Promise<void>;
}): ChannelHarness {
  const { t } = parts;
  const disconnections: ChannelHarness['disconnections'] = [];
  t.app.services.events.subscribe('channel.disconnected', (event) => void disconnections.push(event));
  return {
    ...parts,
    disconnections,
    deliver: (channelId, rawBody, headers) =>
      t.anonymous.request('POST', `/api/v1/channels/${channelId}/events`, rawBody, headers),
    storedEvents: (channelId) => t.app.models.ChannelEvent.countDocuments({ channelId }),
  };
}

/** The real app wired to the fake model and the fake platforms, with one organization and bot. */
export async function startChannelHarness(): Promise<ChannelHarness> {
  const [fakes, llm] = await Promise.all([startPlatformFakes(), startFakeLlm()]);
  const t = await startTestApp({
    env: {
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      MODEL_RETRY_BACKOFF_MS: '10',
      ...platformEnv(fakes),
    },
  });
  const org = await t.createOrg();
  const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Support', instructions: 'Be brief.' });
  return channelHarnessOf({
    t,
    fakes,
    llm,
    org,
    botId: bot.body.data.id,
    stop: async () => {
      await t.stop();
      await Promise.all([fakes.stop(), llm.stop()]);
    },
  });
}
