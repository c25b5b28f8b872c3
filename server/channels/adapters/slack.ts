import { z } from 'zod';
import { PlatformError, type PlatformHttp } from '../platform-http.js';
import { badSignature, checkTimestamp, header, hmac, safeEqual } from '../signatures.js';
import type { ChannelAdapter, ConfirmVerdict, InboundConfirm, InboundOutcome, OpenChannel } from './adapter.js';

const envelopeSchema = z.object({
  type: z.string(),
  challenge: z.string().max(500).optional(),
  event_id: z.string().optional(),
  team_id: z.string().optional(),
  event: z
    .object({
      type: z.string(),
      subtype: z.string().optional(),
      bot_id: z.string().optional(),
      user: z.string().optional(),
      text: z.string().optional(),
      channel: z.string().optional(),
      ts: z.string().optional(),
      thread_ts: z.string().optional(),
      reaction: z.string().optional(),
      item: z.object({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }).optional(),
    })
    .optional(),
});

/** Reactions on an answer that rate it (`reaction_added` events). */
const RATINGS: Record<string, 'up' | 'down'> = { '+1': 'up', thumbsup: 'up', '-1': 'down', thumbsdown: 'down' };

/** Replies in the thread of a paused answer that approve or decline its action. */
const CONFIRM_WORDS = new Map([
  ['approve', true],
  ['decline', false],
]);
const CONFIRM_HINT = 'Press Approve or Decline, or reply *approve* or *decline* in this thread.';

/** The Block Kit buttons under a question (their `action_id`s are what an interactivity payload names). */
const CONFIRM_ACTIONS = new Map([
  ['wisp_confirm_approve', true],
  ['wisp_confirm_decline', false],
]);
const confirmBlocks = (text: string) => [
  { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } },
  {
    type: 'actions',
    block_id: 'wisp_confirm',
    elements: [
      {
        type: 'button',
        action_id: 'wisp_confirm_approve',
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'approve',
      },
      {
        type: 'button',
        action_id: 'wisp_confirm_decline',
        style: 'danger',
        text: { type: 'plain_text', text: 'Decline' },
        value: 'decline',
      },
    ],
  },
  { type: 'context', elements: [{ type: 'mrkdwn', text: CONFIRM_HINT }] },
];

/** The question once answered: its text, and who decided what in place of the buttons. */
const decidedBlocks = (text: string, outcome: string) => [
  { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } },
  { type: 'context', elements: [{ type: 'mrkdwn', text: outcome }] },
];

/** What the user who pressed or replied is told, only them (an ephemeral message), when it was not taken. */
function refusalOf(verdict: ConfirmVerdict): string {
  if (verdict.kind === 'notAsker')
    return `Only <@${verdict.question!.askerId}>, who asked, can approve or decline this action.`;
  if (verdict.kind === 'answered') {
    const how = verdict.approved === true ? ' (approved)' : verdict.approved === false ? ' (declined)' : '';
    return `This was already answered${how}: nothing more was done.`;
  }
  return 'Nothing waits for an answer here any more.';
}

/** `channel:ts` of a delivered message, as `send` returns it. */
function messageOf(ref: string | null | undefined): { channel: string; ts: string } | null {
  const at = ref?.indexOf(':') ?? -1;
  return ref && at > 0 ? { channel: ref.slice(0, at), ts: ref.slice(at + 1) } : null;
}

/**
 * The parts of an interactivity payload Wisp reads (api.slack.com/reference/interaction-payloads/block-actions):
 * who pressed which button, on which message.
 */
const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string() }),
  container: z.object({ channel_id: z.string(), message_ts: z.string(), thread_ts: z.string().optional() }),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string() })).min(1),
});

/** Slack answers HTTP 200 with `ok: false`; these errors mean the token no longer works. */
const REJECTED_TOKEN = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

async function slackCall(
  http: PlatformHttp,
  channel: OpenChannel,
  method: string,
  body: unknown,
): Promise<{ ts?: string }> {
  const answer = (await http.call(
    `${http.baseUrl}/${method}`,
    { headers: { authorization: `Bearer ${channel.credentials.botToken}` }, body },
    'Slack',
  )) as { ok?: boolean; error?: string; ts?: string } | null;
  if (answer?.ok) return answer;
  const error = answer?.error ?? 'unknown_error';
  throw new PlatformError(`Slack refused ${method}: ${error}`, {
    credentialsRejected: REJECTED_TOKEN.has(error),
    status: error === 'ratelimited' ? 429 : 400,
  });
}

/**
 * Slack Events API: every request is signed (`v0=` HMAC of `v0:timestamp:body` under the signing secret,
 * refused outside a five-minute window); the URL is confirmed by echoing `url_verification`'s challenge.
 * Replies go in the message's thread with `chat.postMessage`.
 */
export const slackAdapter: ChannelAdapter = {
  type: 'slack',

  async connect(channel, http) {
    await slackCall(http, channel, 'auth.test', {});
  },

  receive(request, channel) {
    const timestamp = checkTimestamp(header(request.headers, 'x-slack-request-timestamp'), 'X-Slack-Request-Timestamp');
    const signature = header(request.headers, 'x-slack-signature') ?? '';
    const expected = `v0=${hmac(channel.credentials.signingSecret ?? '', `v0:${timestamp}:${request.rawBody.toString('utf8')}`, 'hex')}`;
    if (!safeEqual(signature, expected))
      throw badSignature("The X-Slack-Signature does not match: check the channel's signing secret");
    // A button press comes as a form whose `payload` field is the interaction's JSON.
    const form = request.body as { payload?: unknown } | null;
    if (typeof form?.payload === 'string') return pressOf(form.payload);
    const parsed = envelopeSchema.safeParse(request.body);
    if (!parsed.success) return { kind: 'messages', messages: [] };
    const envelope = parsed.data;
    if (envelope.type === 'url_verification')
      return { kind: 'respond', status: 200, body: { challenge: envelope.challenge } };
    const event = envelope.event;
    const rating = RATINGS[event?.reaction ?? ''];
    if (event?.type === 'reaction_added' && rating && event.item?.channel && event.item.ts)
      return { kind: 'feedback', feedback: { deliveredRef: `${event.item.channel}:${event.item.ts}`, rating } };
    // Bots' own messages (Wisp's answers among them) and edits are not questions.
    const isQuestion =
      envelope.type === 'event_callback' &&
      (event?.type === 'message' || event?.type === 'app_mention') &&
      !event.subtype &&
      !event.bot_id;
    if (!isQuestion || !event?.text || !event.user || !event.channel || !event.ts || !envelope.event_id)
      return { kind: 'messages', messages: [] };
    const threadTs = event.thread_ts ?? event.ts;
    const message = {
      // A message that mentions the bot arrives twice (`message` and `app_mention`): one answer per message.
      eventKey: `message:${event.channel}:${event.ts}`,
      text: event.text.replace(/<@[A-Z0-9]+>\s*/g, '').trim() || event.text,
      userId: event.user,
      userName: null,
      threadKey: `${envelope.team_id ?? ''}:${event.channel}:${threadTs}`,
      replyTo: { channel: event.channel, threadTs },
    };
    // "approve" / "decline" in the thread of an answer that paused for an action answers it.
    const word = event.thread_ts
      ? CONFIRM_WORDS.get(
          message.text
            .trim()
            .toLowerCase()
            .replace(/[.!]+$/, ''),
        )
      : undefined;
    if (word !== undefined)
      return {
        kind: 'confirm',
        confirm: { approve: word, userId: event.user, threadKey: message.threadKey, otherwise: message },
      };
    return { kind: 'messages', messages: [message] };
  },

  /**
   * Once an answer is taken, the question's buttons are replaced by who decided what (`chat.update`), so nobody
   * presses again; an answer not taken (already answered, not the asker's, nothing waiting) is explained to the
   * user who gave it alone (`chat.postEphemeral`), in the thread.
   */
  async confirmTaken(channel, http, confirm, verdict) {
    const where = confirm.replyTo ?? confirm.otherwise?.replyTo;
    const decided = verdict.kind === 'taken' ? confirm.approve : verdict.kind === 'answered' ? verdict.approved : null;
    // A press on a question already answered shows stale buttons: they go too.
    const question = messageOf(
      verdict.kind === 'taken' || (verdict.kind === 'answered' && confirm.deliveredRef)
        ? (verdict.question?.deliveredRef ?? confirm.deliveredRef)
        : null,
    );
    if (question && verdict.question && decided !== undefined && decided !== null) {
      const outcome = `${decided ? '✅ Approved' : '✖️ Declined'} by <@${verdict.question.askerId}>`;
      await slackCall(http, channel, 'chat.update', {
        channel: question.channel,
        ts: question.ts,
        text: `${verdict.question.text}\n\n${outcome}`,
        blocks: decidedBlocks(verdict.question.text, outcome),
      });
    }
    if (verdict.kind !== 'taken' && where?.channel) await tellOnly(http, channel, confirm, where, refusalOf(verdict));
  },

  async send(channel, http, replyTo, reply) {
    const posted = await slackCall(http, channel, 'chat.postMessage', {
      channel: replyTo.channel,
      thread_ts: replyTo.threadTs,
      text: reply.pendingAction ? `${reply.text}\n\n${CONFIRM_HINT}` : reply.text,
      ...(reply.pendingAction ? { blocks: confirmBlocks(reply.text) } : {}),
    });
    return posted.ts ? `${replyTo.channel}:${posted.ts}` : undefined;
  },
};

/** A message only `confirm.userId` sees, in the thread of the question. */
async function tellOnly(
  http: PlatformHttp,
  channel: OpenChannel,
  confirm: InboundConfirm,
  where: Record<string, string>,
  text: string,
): Promise<void> {
  await slackCall(http, channel, 'chat.postEphemeral', {
    channel: where.channel,
    user: confirm.userId,
    text,
    ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
  });
}

/** An Approve / Decline press; anything else pressed or sent as a form is not for Wisp. */
function pressOf(payload: string): InboundOutcome {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { kind: 'messages', messages: [] };
  }
  const parsed = blockActionsSchema.safeParse(json);
  const approve = parsed.success ? CONFIRM_ACTIONS.get(parsed.data.actions[0]!.action_id) : undefined;
  if (!parsed.success || approve === undefined) return { kind: 'messages', messages: [] };
  const { container, user, message } = parsed.data;
  const threadTs = container.thread_ts ?? message?.thread_ts ?? container.message_ts;
  return {
    kind: 'confirm',
    confirm: {
      approve,
      userId: user.id,
      deliveredRef: `${container.channel_id}:${container.message_ts}`,
      replyTo: { channel: container.channel_id, threadTs },
    },
  };
}
