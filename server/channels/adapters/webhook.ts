import { webhookConfirmSchema, webhookInboundSchema } from '../../../shared/schemas/channels.js';
import { parse } from '../../errors/parse.js';
import { standardWebhooks } from '../signatures.js';
import type { ChannelAdapter } from './adapter.js';

/**
 * Any custom platform: deliveries are signed with the channel's secret in the Standard Webhooks format, and
 * answers are POSTed to the callback URL, signed the same way (or returned in the response when asked).
 */
export const webhookAdapter: ChannelAdapter = {
  type: 'webhook',

  async connect() {
    // Nothing to check: the secret is Wisp's own and the callback URL is checked at each delivery.
  },

  receive(request, channel) {
    const eventId = standardWebhooks.verify(channel.credentials.secret ?? '', request.headers, request.rawBody);
    const type = (request.body as { type?: unknown } | null)?.type;
    if (type === 'confirm') {
      const confirm = parse(webhookConfirmSchema, request.body, 'body');
      return {
        kind: 'confirm',
        confirm: {
          approve: confirm.approve,
          userId: confirm.user.id,
          token: confirm.token,
          syncReply: confirm.reply === 'sync',
        },
      };
    }
    const body = parse(webhookInboundSchema, request.body, 'body');
    return {
      kind: 'messages',
      messages: [
        {
          eventKey: eventId,
          text: body.text,
          userId: body.user.id,
          userName: body.user.name ?? null,
          threadKey: body.conversation ?? body.user.id,
          replyTo: { user: body.user.id, conversation: body.conversation ?? '' },
          syncReply: body.reply === 'sync',
        },
      ],
    };
  },

  async send(channel, http, replyTo, reply) {
    const url = channel.callbackUrl;
    if (!url) return;
    const id = `msg_${reply.messageId}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({
      type: 'message.answer',
      channelId: channel.id,
      eventId: reply.eventKey,
      conversation: replyTo.conversation || null,
      user: { id: replyTo.user },
      text: reply.text,
      conversationId: reply.conversationId,
      messageId: reply.messageId,
      /** Set when the answer waits for the user's approval: POST a signed `confirm` with this token. */
      requiresAction: reply.pendingAction ?? null,
    });
    await http.call(
      url,
      {
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': timestamp,
          'webhook-signature': standardWebhooks.sign(channel.credentials.secret ?? '', id, timestamp, body),
        },
        rawBody: body,
      },
      'The callback URL',
    );
  },
};
