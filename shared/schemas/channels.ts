import { z } from 'zod';
import { shortText } from './common.js';

/** The messaging platforms a bot can be connected to; `webhook` is any custom platform. */
export const CHANNEL_TYPES = ['telegram', 'slack', 'whatsapp', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const secret = (max = 500) => z.string().trim().min(1).max(max);
const httpUrl = z
  .string()
  .max(2000)
  .url({ message: 'must be a URL' })
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' });

/** What each platform needs to receive and answer messages; stored encrypted, never returned. */
export const channelCredentialSchemas = {
  telegram: z.strictObject({
    botToken: z
      .string()
      .trim()
      .max(200)
      .regex(/^\d+:[A-Za-z0-9_-]+$/, { message: 'must be a Telegram bot token from @BotFather, e.g. 123456:ABC-...' }),
  }),
  slack: z.strictObject({
    botToken: secret(300).regex(/^xox[a-z]-/, { message: 'must be a Slack bot token (xoxb-...)' }),
    signingSecret: secret(200),
  }),
  whatsapp: z.strictObject({
    accessToken: secret(1000),
    /** Signs deliveries (`X-Hub-Signature-256`). */
    appSecret: secret(200),
    /** What Meta sends back in the subscription check (`hub.verify_token`). */
    verifyToken: secret(200),
    phoneNumberId: z
      .string()
      .trim()
      .regex(/^\d{1,30}$/, { message: 'must be the numeric WhatsApp phone number id' }),
  }),
  webhook: z.strictObject({
    /** The signing secret (`whsec_...`); Wisp generates one when left out. */
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{24,200}$/, { message: 'must be a Standard Webhooks secret: whsec_ + base64' })
      .optional(),
  }),
} satisfies Record<ChannelType, z.ZodType>;

const channelName = shortText(100).optional();

/** Body of `POST /api/v1/chatbots/:id/channels`: one platform account for the bot. */
export const createChannelSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('telegram'), name: channelName, credentials: channelCredentialSchemas.telegram }),
  z.strictObject({ type: z.literal('slack'), name: channelName, credentials: channelCredentialSchemas.slack }),
  z.strictObject({ type: z.literal('whatsapp'), name: channelName, credentials: channelCredentialSchemas.whatsapp }),
  z.strictObject({
    type: z.literal('webhook'),
    name: channelName,
    credentials: channelCredentialSchemas.webhook.default({}),
    /** Where answers are POSTed; without one, only synchronous answers (`"reply": "sync"`) are possible. */
    callbackUrl: httpUrl.nullable().default(null),
  }),
]);

/** Body of `PATCH /api/v1/channels/:id`; new credentials replace the old ones and are checked with the platform. */
export const updateChannelSchema = z.strictObject({
  name: shortText(100).optional(),
  credentials: z.record(z.string().max(50), z.string().max(1000)).optional(),
  callbackUrl: httpUrl.nullable().optional(),
});

/** A channel as returned: credentials are never sent back. */
export const channelSchema = z.object({
  id: z.string(),
  chatbotId: z.string(),
  type: z.enum(CHANNEL_TYPES),
  name: z.string(),
  status: z.enum(['connected', 'disconnected']),
  /** Why the channel is disconnected, in words an owner can act on; null while connected. */
  statusReason: z.string().nullable(),
  /** Where the platform delivers events (Telegram is registered there by Wisp; Slack, WhatsApp and custom platforms are pointed at it). */
  inboundUrl: z.string(),
  callbackUrl: z.string().nullable(),
  lastEventAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A channel at creation: the only time a generated webhook signing secret is shown. */
export const createdChannelSchema = channelSchema.extend({ signingSecret: z.string().optional() });

/** What a custom platform POSTs to a `webhook` channel (signed with Standard Webhooks headers). */
export const webhookInboundSchema = z.object({
  /** `message` (the default); a `confirm` body answers a paused action, see `webhookConfirmSchema`. */
  type: z.literal('message').default('message'),
  text: z.string().min(1).max(4000),
  user: z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional() }),
  /** The custom platform's thread or chat id: messages with the same one share a conversation. */
  conversation: z.string().min(1).max(200).optional(),
  /** `sync`: the answer is the response body instead of a callback. */
  reply: z.enum(['callback', 'sync']).default('callback'),
});

/**
 * What a custom platform POSTs to answer an action an answer paused for: the `requiresAction.token` of the
 * `message.answer` callback, and the same user who asked. The follow-up answer is delivered like any answer.
 */
export const webhookConfirmSchema = z.strictObject({
  type: z.literal('confirm'),
  token: z.string().min(10).max(200),
  approve: z.boolean(),
  user: z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional() }),
  reply: z.enum(['callback', 'sync']).default('callback'),
});

export type ChannelDto = z.infer<typeof channelSchema>;
export type CreateChannelInput = z.output<typeof createChannelSchema>;
export type UpdateChannelInput = z.output<typeof updateChannelSchema>;
