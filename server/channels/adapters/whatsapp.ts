import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import { badSignature, header, hmac, safeEqual } from '../signatures.js';
import type { ChannelAdapter, InboundMessage } from './adapter.js';
import { splitText } from './split-text.js';

const WHATSAPP_MAX_CHARS = 4096;

const deliverySchema = z.object({
  entry: z
    .array(
      z.object({
        changes: z
          .array(
            z.object({
              value: z.object({
                contacts: z
                  .array(z.object({ wa_id: z.string(), profile: z.object({ name: z.string() }).optional() }))
                  .optional(),
                messages: z
                  .array(
                    z.object({
                      id: z.string(),
                      from: z.string(),
                      type: z.string(),
                      text: z.object({ body: z.string() }).optional(),
                    }),
                  )
                  .optional(),
              }),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
});

/**
 * WhatsApp Cloud API (Meta Graph API): the subscription is confirmed by echoing `hub.challenge` when
 * `hub.verify_token` matches; each delivery is signed `X-Hub-Signature-256: sha256=<HMAC of the body under the app secret>`.
 */
export const whatsappAdapter: ChannelAdapter = {
  type: 'whatsapp',

  async connect(channel, http) {
    await http.call(
      `${http.baseUrl}/${channel.credentials.phoneNumberId}`,
      { method: 'GET', headers: { authorization: `Bearer ${channel.credentials.accessToken}` } },
      'WhatsApp',
    );
  },

  challenge(query, channel) {
    const token = typeof query['hub.verify_token'] === 'string' ? query['hub.verify_token'] : '';
    const challenge = query['hub.challenge'];
    if (
      query['hub.mode'] !== 'subscribe' ||
      typeof challenge !== 'string' ||
      !safeEqual(token, channel.credentials.verifyToken ?? '')
    )
      throw new AppError('ForbiddenError', { message: "hub.verify_token does not match this channel's verify token" });
    return challenge;
  },

  receive(request, channel) {
    const signature = header(request.headers, 'x-hub-signature-256') ?? '';
    const expected = `sha256=${hmac(channel.credentials.appSecret ?? '', request.rawBody, 'hex')}`;
    if (!safeEqual(signature, expected))
      throw badSignature("The X-Hub-Signature-256 does not match: check the channel's app secret");
    const parsed = deliverySchema.safeParse(request.body);
    const messages: InboundMessage[] = [];
    for (const change of parsed.success ? parsed.data.entry.flatMap((entry) => entry.changes) : []) {
      for (const message of change.value.messages ?? []) {
        if (message.type !== 'text' || !message.text?.body) continue;
        const contact = change.value.contacts?.find((candidate) => candidate.wa_id === message.from);
        messages.push({
          eventKey: message.id,
          text: message.text.body,
          userId: message.from,
          userName: contact?.profile?.name ?? null,
          threadKey: message.from,
          replyTo: { to: message.from, messageId: message.id },
        });
      }
    }
    return { kind: 'messages', messages };
  },

  async send(channel, http, replyTo, reply) {
    for (const body of splitText(reply.text, WHATSAPP_MAX_CHARS)) {
      await http.call(
        `${http.baseUrl}/${channel.credentials.phoneNumberId}/messages`,
        {
          headers: { authorization: `Bearer ${channel.credentials.accessToken}` },
          body: {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            to: replyTo.to,
            type: 'text',
            context: { message_id: replyTo.messageId },
            text: { preview_url: false, body },
          },
        },
        'WhatsApp',
      );
    }
  },
};
