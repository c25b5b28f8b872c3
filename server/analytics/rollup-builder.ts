import type { Types } from 'mongoose';
import { CANCELLED_ANSWER } from '../chat/answer.js';
import { INTERRUPTED_ANSWER } from '../chat/answer-lease.js';
import { LOW_CONFIDENCE, normalizeQuestion } from '../chat/unanswered.service.js';
import { DAY_MS, QUARTER_MS } from './calendar.js';
import { Tally, type DayRollup, type Slot, type TopLists } from './tally.js';

/** The fields of a message that analytics reads. */
export interface RawMessage {
  _id: Types.ObjectId;
  chatbotId: Types.ObjectId;
  conversationId: Types.ObjectId;
  role: string;
  status: string;
  content?: string | null;
  confidence?: number | null;
  sources?: Array<{ sourceId?: string | null; title?: string | null; url?: string | null }> | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  error?: string | null;
  feedback?: { rating?: string | null } | null;
  firstTokenMs?: number | null;
  replyTo?: Types.ObjectId | null;
  createdAt: Date;
}

/** The fields of a conversation that analytics reads; all are fixed when it starts. */
export interface RawConversation {
  _id: Types.ObjectId;
  chatbotId: Types.ObjectId;
  channel: string;
  visitorId?: string | null;
  sessionKey: string;
  createdAt: Date;
}

export const MESSAGE_FIELDS =
  '_id chatbotId conversationId role status content confidence sources.sourceId sources.title sources.url ' +
  'promptTokens completionTokens error feedback.rating firstTokenMs replyTo createdAt';
export const CONVERSATION_FIELDS = '_id chatbotId channel visitorId sessionKey createdAt';

/**
 * Who a visitor is, from what a conversation was started with: the widget's visitor id, else the API
 * session, else (no session given) the conversation itself.
 */
function visitorOf(conversation: RawConversation): string {
  if (conversation.visitorId) return `visitor:${conversation.visitorId}`;
  if (conversation.sessionKey.startsWith('session:')) return conversation.sessionKey;
  return `conversation:${conversation._id.toString()}`;
}

/** A failure the model or the app caused, as opposed to the client leaving or the server stopping. */
function isModelFailure(message: RawMessage): boolean {
  return message.error !== CANCELLED_ANSWER && message.error !== INTERRUPTED_ANSWER;
}

/** `<chatbotId>:<YYYY-MM-DD>`: the key of a bot's UTC day. */
export function dayKey(chatbotId: Types.ObjectId | string, dayStart: number): string {
  return `${chatbotId.toString()}:${new Date(dayStart).toISOString().slice(0, 10)}`;
}

export const dayStartOf = (instant: number) => Math.floor(instant / DAY_MS) * DAY_MS;

/**
 * Computes the quarter-hour slots of bots' UTC days from their raw records: every message and conversation
 * created in those days, the conversations those messages belong to, and the questions their answers reply to.
 * Returns the rollups by day key (days without records have none).
 */
export function buildDays(records: {
  messages: RawMessage[];
  conversationsStarted: RawConversation[];
  conversationOf: (id: Types.ObjectId) => RawConversation | undefined;
  questionOf: (userMessageId: Types.ObjectId) => string | undefined;
}): Map<string, DayRollup> {
  const tallies = new Map<string, Tally>();
  const tallyAt = (chatbotId: Types.ObjectId, at: Date, channel: string) => {
    const key = `${dayKey(chatbotId, dayStartOf(at.getTime()))}|${Math.floor((at.getTime() % DAY_MS) / QUARTER_MS)}|${channel}`;
    let tally = tallies.get(key);
    if (!tally) tallies.set(key, (tally = new Tally()));
    return tally;
  };
  for (const conversation of records.conversationsStarted) {
    tallyAt(conversation.chatbotId, conversation.createdAt, conversation.channel).count('conversations');
  }
  for (const message of records.messages) {
    const conversation = records.conversationOf(message.conversationId);
    // Messages whose conversation is gone are deleted with it (the delete removes messages first).
    if (!conversation) continue;
    const tally = tallyAt(message.chatbotId, message.createdAt, conversation.channel);
    if (message.role === 'user') {
      tally.count('visitorMessages');
      tally.visitors.add(visitorOf(conversation));
      const normalized = normalizeQuestion(message.content ?? '');
      if (normalized) tally.question('questions', normalized, (message.content ?? '').slice(0, 300));
      continue;
    }
    tally.count('promptTokens', message.promptTokens ?? 0);
    tally.count('completionTokens', message.completionTokens ?? 0);
    if (message.status === 'failed' && isModelFailure(message)) tally.count('modelFailures');
    if (message.status !== 'complete') continue;
    tally.count('answers');
    const confidence = message.confidence ?? 0;
    const sources = message.sources ?? [];
    if (confidence >= LOW_CONFIDENCE) tally.count('answered');
    else {
      tally.count(sources.length > 0 ? 'lowConfidence' : 'unanswered');
      const question = message.replyTo ? records.questionOf(message.replyTo) : undefined;
      const normalized = normalizeQuestion(question ?? '');
      if (normalized && question) tally.question('gaps', normalized, question.slice(0, 300));
    }
    if (message.feedback?.rating === 'up') tally.count('feedbackUp');
    if (message.feedback?.rating === 'down') tally.count('feedbackDown');
    if (typeof message.firstTokenMs === 'number') tally.firstToken(message.firstTokenMs);
    for (const source of sources) {
      if (source.sourceId) tally.source(source.sourceId, source.title ?? '', source.url ?? null);
    }
  }
  const days = new Map<
    string,
    { slots: Map<number, Slot>; slotTops: Map<number, Slot<TopLists>>; day: Map<string, Tally> }
  >();
  for (const [key, tally] of tallies) {
    const [dayKey = '', quarter = '0', channel = ''] = key.split('|');
    let day = days.get(dayKey);
    if (!day) days.set(dayKey, (day = { slots: new Map(), slotTops: new Map(), day: new Map() }));
    const q = Number(quarter);
    const slot = day.slots.get(q) ?? { q, ch: {} };
    const slotTops = day.slotTops.get(q) ?? { q, ch: {} };
    day.slots.set(q, slot);
    day.slotTops.set(q, slotTops);
    slot.ch[channel] = tally.figures();
    slotTops.ch[channel] = tally.tops(false);
    const whole = day.day.get(channel) ?? new Tally();
    day.day.set(channel, whole);
    whole.merge(tally);
  }
  const byQuarter = (a: { q: number }, b: { q: number }) => a.q - b.q;
  return new Map(
    [...days].map(([key, day]) => [
      key,
      {
        slots: [...day.slots.values()].sort(byQuarter),
        slotTops: [...day.slotTops.values()].sort(byQuarter),
        tops: Object.fromEntries([...day.day].map(([channel, tally]) => [channel, tally.tops(true)])),
      },
    ]),
  );
}
