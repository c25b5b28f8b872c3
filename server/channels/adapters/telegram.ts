import { z } from 'zod';
import { PlatformError, type PlatformHttp } from '../platform-http.js';
import { badSignature, header, safeEqual } from '../signatures.js';
import type { ChannelAdapter, ConfirmVerdict, OpenChannel } from './adapter.js';
import { splitText } from './split-text.js';

const TELEGRAM_MAX_CHARS = 4096;

/** `callback_data` of the rating buttons under an answer (at most 64 bytes, Telegram's limit). */
const RATING_DATA: Record<string, 'up' | 'down'> = { 'wisp:up': 'up', 'wisp:down': 'down' };
const RATING_KEYBOARD = {
  inline_keyboard: [
    [
      { text: '👍', callback_data: 'wisp:up' },
      { text: '👎', callback_data: 'wisp:down' },
    ],
  ],
};

/**
 * `callback_data` of the Approve / Decline buttons under an answer that paused for an action. Distinct from the
 * rating buttons' data; the press names the message it was on, never the confirmation token.
 */
const CONFIRM_DATA = new Map([
  ['wisp:act:yes', true],
  ['wisp:act:no', false],
]);
const CONFIRM_KEYBOARD = {
  inline_keyboard: [
    [
      { text: '✅ Approve', callback_data: 'wisp:act:yes' },
      { text: '✖️ Decline', callback_data: 'wisp:act:no' },
    ],
  ],
};

/**
 * The parts of a Telegram `Update` Wisp reads (core.telegram.org/bots/api#update): a text message, or the
 * `callback_query` of a rating button pressed under one of its answers.
 */
const updateSchema = z.object({
  update_id: z.number().int(),
  message: z
    .object({
      message_id: z.number().int(),
      text: z.string().optional(),
      from: z.object({ id: z.number(), first_name: z.string().optional(), username: z.string().optional() }).optional(),
      chat: z.object({ id: z.number() }),
    })
    .optional(),
  callback_query: z
    .object({
      id: z.string(),
      from: z.object({ id: z.number() }).optional(),
      data: z.string().optional(),
      message: z.object({ message_id: z.number().int(), chat: z.object({ id: z.number() }) }).optional(),
    })
    .optional(),
});

/** What `sendMessage` answers: the sent message. */
const sentSchema = z.object({ result: z.object({ message_id: z.number().int() }) });

/**
 * Why a press was not taken, for the user who pressed (answerCallbackQuery's text, at most 200 characters): as on
 * Slack, another member of a group is told only the user who asked may answer, before anything else.
 */
function notTakenText(verdict: ConfirmVerdict): string {
  if (verdict.kind === 'notAsker') return 'Only the user who asked can approve or decline this action';
  if (verdict.kind === 'answered') {
    const how = verdict.approved === true ? ' (approved)' : verdict.approved === false ? ' (declined)' : '';
    return `This was already answered${how}: nothing more was done`;
  }
  return 'Nothing waits for an answer here any more';
}

const methodUrl = (http: PlatformHttp, channel: OpenChannel, method: string) =>
  `${http.baseUrl}/bot${channel.credentials.botToken}/${method}`;

/**
 * Telegram Bot API: Wisp registers its inbound URL with `setWebhook` and a secret token of its own, which
 * Telegram sends back in `X-Telegram-Bot-Api-Secret-Token` on every update.
 */
export const telegramAdapter: ChannelAdapter = {
  type: 'telegram',

  async connect(channel, http, inboundUrl) {
    await http.call(methodUrl(http, channel, 'getMe'), { method: 'GET' }, 'Telegram');
    await http.call(
      methodUrl(http, channel, 'setWebhook'),
      {
        body: { url: inboundUrl, secret_token: channel.inboundSecret, allowed_updates: ['message', 'callback_query'] },
      },
      'Telegram',
    );
  },

  async release(channel, http) {
    await http.call(methodUrl(http, channel, 'deleteWebhook'), { body: {} }, 'Telegram');
  },

  receive(request, channel) {
    const token = header(request.headers, 'x-telegram-bot-api-secret-token');
    if (!token || !channel.inboundSecret || !safeEqual(token, channel.inboundSecret))
      throw badSignature('The X-Telegram-Bot-Api-Secret-Token header does not match this channel');
    const update = updateSchema.safeParse(request.body);
    const pressed = update.success ? update.data.callback_query : undefined;
    const approve = CONFIRM_DATA.get(pressed?.data ?? '');
    if (pressed?.message && pressed.from && approve !== undefined) {
      const chatId = String(pressed.message.chat.id);
      return {
        kind: 'confirm',
        confirm: {
          approve,
          userId: String(pressed.from.id),
          deliveredRef: `${chatId}:${pressed.message.message_id}`,
          replyTo: { chatId, messageId: String(pressed.message.message_id) },
          platformRef: pressed.id,
        },
      };
    }
    const rating = RATING_DATA[pressed?.data ?? ''];
    if (pressed?.message && rating) {
      const deliveredRef = `${pressed.message.chat.id}:${pressed.message.message_id}`;
      return { kind: 'feedback', feedback: { deliveredRef, rating, platformRef: pressed.id } };
    }
    const message = update.success ? update.data.message : undefined;
    if (!update.success || !message?.text || !message.from) return { kind: 'messages', messages: [] };
    const chatId = String(message.chat.id);
    return {
      kind: 'messages',
      messages: [
        {
          eventKey: `update:${update.data.update_id}`,
          text: message.text,
          userId: String(message.from.id),
          userName: message.from.username ?? message.from.first_name ?? null,
          threadKey: chatId,
          replyTo: { chatId, messageId: String(message.message_id) },
        },
      ],
    };
  },

  async typing(channel, http, replyTo) {
    await http.call(
      methodUrl(http, channel, 'sendChatAction'),
      { body: { chat_id: replyTo.chatId, action: 'typing' } },
      'Telegram',
    );
  },

  /** Stops the pressed button's spinner, with a word of thanks (answerCallbackQuery). */
  async feedbackTaken(channel, http, feedback) {
    if (!feedback.platformRef) return;
    await http.call(
      methodUrl(http, channel, 'answerCallbackQuery'),
      { body: { callback_query_id: feedback.platformRef, text: 'Thanks for your feedback' } },
      'Telegram',
    );
  },

  /** Stops the pressed button's spinner, saying whether the press was taken (answerCallbackQuery). */
  async confirmTaken(channel, http, confirm, verdict) {
    if (!confirm.platformRef) return;
    const taken = verdict.kind === 'taken';
    const text = taken ? (confirm.approve ? 'Approved' : 'Declined') : notTakenText(verdict);
    await http.call(
      methodUrl(http, channel, 'answerCallbackQuery'),
      { body: { callback_query_id: confirm.platformRef, text } },
      'Telegram',
    );
    // The question's buttons go once it is answered (editMessageReplyMarkup with an empty keyboard).
    if (taken && confirm.replyTo?.chatId && confirm.replyTo.messageId)
      await http.call(
        methodUrl(http, channel, 'editMessageReplyMarkup'),
        {
          body: {
            chat_id: confirm.replyTo.chatId,
            message_id: Number(confirm.replyTo.messageId),
            reply_markup: { inline_keyboard: [] },
          },
        },
        'Telegram',
      );
  },

  /**
   * The last part of the answer carries the rating buttons, or Approve / Decline when the answer paused for an
   * action; its chat and message id are what a press names.
   */
  async send(channel, http, replyTo, reply) {
    try {
      const parts = splitText(reply.text, TELEGRAM_MAX_CHARS);
      let sent: unknown = null;
      for (const [index, text] of parts.entries()) {
        sent = await http.call(
          methodUrl(http, channel, 'sendMessage'),
          {
            body: {
              chat_id: replyTo.chatId,
              text,
              reply_parameters: { message_id: Number(replyTo.messageId), allow_sending_without_reply: true },
              ...(index === parts.length - 1
                ? { reply_markup: reply.pendingAction ? CONFIRM_KEYBOARD : RATING_KEYBOARD }
                : {}),
            },
          },
          'Telegram',
        );
      }
      const last = sentSchema.safeParse(sent);
      return last.success ? `${replyTo.chatId}:${last.data.result.message_id}` : undefined;
    } catch (error) {
      // 403 from sendMessage is one user blocking the bot, not a revoked token (that is 401).
      if (error instanceof PlatformError && error.options.status === 403)
        throw new PlatformError('Telegram refused the message: the user blocked the bot', {
          credentialsRejected: false,
          status: 403,
        });
      throw error;
    }
  },
};
