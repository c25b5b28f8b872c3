import type { ChannelDto } from '../../../shared/schemas/channels.js';

export type ChannelType = ChannelDto['type'];

interface Credential {
  key: string;
  label: string;
  hint?: string;
  optional?: boolean;
}

/** What each platform needs; sent once, stored encrypted, never shown back. */
export const PLATFORMS: Record<ChannelType, { label: string; credentials: Credential[]; setup: string }> = {
  telegram: {
    label: 'Telegram',
    credentials: [{ key: 'botToken', label: 'Bot token', hint: 'From @BotFather, e.g. 123456:ABC-…' }],
    setup: 'Wisp registers its inbound address with Telegram itself.',
  },
  slack: {
    label: 'Slack',
    credentials: [
      { key: 'botToken', label: 'Bot token', hint: 'xoxb-…' },
      { key: 'signingSecret', label: 'Signing secret', hint: "From the app's Basic Information page." },
    ],
    setup: "Paste the inbound address as the app's Event Subscriptions request URL.",
  },
  whatsapp: {
    label: 'WhatsApp',
    credentials: [
      { key: 'accessToken', label: 'Access token' },
      { key: 'appSecret', label: 'App secret', hint: 'Signs the deliveries (X-Hub-Signature-256).' },
      { key: 'verifyToken', label: 'Verify token', hint: 'Any phrase; type the same one in Meta’s webhook settings.' },
      { key: 'phoneNumberId', label: 'Phone number id' },
    ],
    setup: "Paste the inbound address as the WhatsApp app's callback URL.",
  },
  webhook: {
    label: 'Webhook (any platform)',
    credentials: [
      {
        key: 'secret',
        label: 'Signing secret',
        hint: 'whsec_…; leave empty and Wisp makes one, shown once.',
        optional: true,
      },
    ],
    setup: 'POST messages to the inbound address, signed per Standard Webhooks.',
  },
};
