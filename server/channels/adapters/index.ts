import type { ChannelType } from '../../../shared/schemas/channels.js';
import type { ChannelAdapter } from './adapter.js';
import { slackAdapter } from './slack.js';
import { telegramAdapter } from './telegram.js';
import { webhookAdapter } from './webhook.js';
import { whatsappAdapter } from './whatsapp.js';

export const CHANNEL_ADAPTERS: Record<ChannelType, ChannelAdapter> = {
  telegram: telegramAdapter,
  slack: slackAdapter,
  whatsapp: whatsappAdapter,
  webhook: webhookAdapter,
};
