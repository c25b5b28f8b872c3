import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import { badSignature, header, hmac, safeEqual } from '../signatures.js';
import type {
  ChannelAdapter,
  ConfirmVerdict,
  InboundConfirm,
  InboundFeedback,
  InboundMessage,
  OpenChannel,
} from './adapter.js';
import type { PlatformHttp } from '../platform-http.js';
import { splitText } from './split-text.js';

const WHATSAPP_MAX_CHARS = 4096;
/** The longest body text of an interactive message. */
const WHATSAPP_BUTTON_BODY_CHARS = 1024;

/** Reply-button ids (at most 256 characters) and titles (at most 20) of the rating asked after an answer. */
const RATING_IDS: Record<string, 'up' | 'down'> = { 'wisp:up': 'up', 'wisp:down': 'down' };
const RATING_QUESTION = {
  type: 'button',
  body: { text: 'Was this answer helpful?' },
  action: {
    buttons: [
      { type: 'reply', reply: { id: 'wisp:up', title: '👍 Yes' } },
      { type: 'reply', reply: { id: 'wisp:down', title: '👎 No' } },
    ],
  },
};

/** Reply-button ids of Approve / Decline, asked after an answer that paused for an action (distinct from ratings). */
const CONFIRM_IDS = new Map([
  ['wisp:act:yes', true],
  ['wisp:act:no', false],
]);
const confirmQuestion = (description: string) => ({
  type: 'button',
  body: { text: `Shall I go ahead? ${description}`.slice(0, WHATSAPP_BUTTON_BODY_CHARS) },
  action: {
    buttons: [
      { type: 'reply', reply: { id: 'wisp:act:yes', title: '✅ Approve' } },
      { type: 'reply', reply: { id: 'wisp:act:no', title: 'Decline' } },
    ],
  },
});

/**
 * What the number that pressed is told when its press was not taken. A WhatsApp chat is one number's: another
 * number never sees the question, so it is told only that the press is not theirs to make, never how the
 * asker answered or who they are.
 */
function refusalOf(confirm: InboundConfirm, verdict: ConfirmVerdict): string {
  if (verdict.question && verdict.question.askerId !== confirm.userId)
    return 'Only the person this question was sent to can approve or decline this action: nothing was done.';
  if (verdict.kind === 'answered') {
    const how = verdict.approved === true ? ' (approved)' : verdict.approved === false ? ' (declined)' : '';
    return `This was already answered${how}: nothing more was done.`;
  }
  return 'Nothing waits for an answer here any more: nothing was done.';
}

/** One Cloud API message to `to`; returns what the API answered. */
function sendTo(http: PlatformHttp, channel: OpenChannel, to: string, message: Record<string, unknown>) {
  return http.call(
    `${http.baseUrl}/${channel.credentials.phoneNumberId}/messages`,
    {
      headers: { authorization: `Bearer ${channel.credentials.accessToken}` },
      body: { messaging_product: 'whatsapp', recipient_type: 'individual', to, ...message },
    },
    'WhatsApp',
  );
}

/** What the Cloud API answers a sent message with. */
const sentSchema = z.object({ messages: z.array(z.object({ id: z.string() })).min(1) });

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
                      interactive: z
                        .object({ type: z.string(), button_reply: z.object({ id: z.string() }).optional() })
                        .optional(),
                      /** The message a reply refers to: for a button reply, the message carrying the buttons. */
                      context: z.object({ id: z.string() }).optional(),
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
    let feedback: InboundFeedback | null = null;
    let confirm: InboundConfirm | null = null;
    for (const change of parsed.success ? parsed.data.entry.flatMap((entry) => entry.changes) : []) {
      for (const message of change.value.messages ?? []) {
        const approve = CONFIRM_IDS.get(message.interactive?.button_reply?.id ?? '');
        if (message.type === 'interactive' && approve !== undefined && message.context?.id)
          confirm ??= {
            approve,
            userId: message.from,
            deliveredRef: message.context.id,
            replyTo: { to: message.from, messageId: message.id },
          };
        const rating = RATING_IDS[message.interactive?.button_reply?.id ?? ''];
        if (message.type === 'interactive' && rating && message.context?.id)
          feedback ??= { deliveredRef: message.context.id, rating };
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
    // The Cloud API notifies one message at a time: a button reply comes alone.
    if (messages.length === 0 && confirm) return { kind: 'confirm', confirm };
    if (messages.length === 0 && feedback) return { kind: 'feedback', feedback };
    return { kind: 'messages', messages };
  },

  /**
   * A press not taken (another number's, a second one, one on a question nothing waits for) is answered with a
   * text to the number that pressed, replying to its press: WhatsApp cannot take the buttons away, so without it
   * the press would go unanswered. A press taken is answered by the follow-up itself.
   */
  async confirmTaken(channel, http, confirm, verdict) {
    if (verdict.kind === 'taken' || !confirm.replyTo?.to) return;
    await sendTo(http, channel, confirm.replyTo.to, {
      type: 'text',
      ...(confirm.replyTo.messageId ? { context: { message_id: confirm.replyTo.messageId } } : {}),
      text: { preview_url: false, body: refusalOf(confirm, verdict) },
    });
  },

  /**
   * Sends the answer as text, then asks for a rating with reply buttons; a button reply names that question,
   * whose id is returned. The question is best effort: the answer is delivered, and sending it again because
   * the question failed would repeat it.
   */
  async send(channel, http, replyTo, reply) {
    const sendMessage = (message: Record<string, unknown>) => sendTo(http, channel, replyTo.to!, message);
    // A short question goes as one message with the buttons: nothing to send twice if a retry is needed.
    const pending = reply.pendingAction;
    if (pending && reply.text.length <= WHATSAPP_BUTTON_BODY_CHARS) {
      const sent = sentSchema.safeParse(
        await sendMessage({
          type: 'interactive',
          context: { message_id: replyTo.messageId },
          interactive: { ...confirmQuestion(''), body: { text: reply.text } },
        }),
      );
      return sent.success ? sent.data.messages[0]!.id : undefined;
    }
    for (const body of splitText(reply.text, WHATSAPP_MAX_CHARS)) {
      await sendMessage({
        type: 'text',
        context: { message_id: replyTo.messageId },
        text: { preview_url: false, body },
      });
    }
    // Approve / Decline must arrive, or the visitor cannot answer: unlike the rating question, its failure is retried.
    if (pending) {
      const buttons = await sendMessage({ type: 'interactive', interactive: confirmQuestion(pending.description) });
      const sentButtons = sentSchema.safeParse(buttons);
      return sentButtons.success ? sentButtons.data.messages[0]!.id : undefined;
    }
    const asked = await sendMessage({ type: 'interactive', interactive: RATING_QUESTION }).catch(() => null);
    const sent = sentSchema.safeParse(asked);
    return sent.success ? sent.data.messages[0]!.id : undefined;
  },
};
