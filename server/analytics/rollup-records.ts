import { Types } from 'mongoose';
import type { ConversationModel } from '../conversations/conversation.model.js';
import type { MessageModel } from '../conversations/message.model.js';
import { DAY_MS } from './calendar.js';
import {
  CONVERSATION_FIELDS,
  dayKey,
  dayStartOf,
  MESSAGE_FIELDS,
  type RawConversation,
  type RawMessage,
} from './rollup-builder.js';

/** Reads the raw records rollups are computed from. */
export class RecordLoader {
  constructor(private readonly models: { Message: MessageModel; Conversation: ConversationModel }) {}

  /**
   * Every record of whole bots and of some bots' days, in one pass over each collection: the embedded engine
   * scans for a range query however narrow it is, so one wide query costs the same as a narrow one.
   */
  async scan(
    bots: Types.ObjectId[],
    days: Array<{ chatbotId: Types.ObjectId; key: string; day: Date }>,
  ): Promise<{ messages: RawMessage[]; conversations: RawConversation[] }> {
    if (bots.length === 0 && days.length === 0) return { messages: [], conversations: [] };
    const spans = new Map<string, { chatbotId: Types.ObjectId; from: number; to: number }>();
    for (const { chatbotId, day } of days) {
      const span = spans.get(chatbotId.toString());
      const start = day.getTime();
      if (span) {
        span.from = Math.min(span.from, start);
        span.to = Math.max(span.to, start + DAY_MS);
      } else spans.set(chatbotId.toString(), { chatbotId, from: start, to: start + DAY_MS });
    }
    const filter = {
      $or: [
        ...(bots.length > 0 ? [{ chatbotId: { $in: bots } }] : []),
        ...[...spans.values()].map((span) => ({
          chatbotId: span.chatbotId,
          createdAt: { $gte: new Date(span.from), $lt: new Date(span.to) },
        })),
      ],
    };
    const wholeBots = new Set(bots.map(String));
    const keys = new Set(days.map((day) => day.key));
    const wanted = (record: { chatbotId: Types.ObjectId; createdAt: Date }) =>
      wholeBots.has(record.chatbotId.toString()) ||
      keys.has(dayKey(record.chatbotId, dayStartOf(record.createdAt.getTime())));
    const [messages, conversations] = await Promise.all([
      this.models.Message.find(filter, MESSAGE_FIELDS).lean<RawMessage[]>(),
      this.models.Conversation.find(filter, CONVERSATION_FIELDS).lean<RawConversation[]>(),
    ]);
    return { messages: messages.filter(wanted), conversations: conversations.filter(wanted) };
  }

  /** Records by id: exact lookups, which need no scan. Deleted ones are simply not found. */
  async byIds(
    messageIds: Types.ObjectId[],
    conversationIds: Types.ObjectId[],
  ): Promise<{ messages: RawMessage[]; conversations: RawConversation[] }> {
    const [messages, conversations] = await Promise.all([
      this.find(this.models.Message, messageIds, MESSAGE_FIELDS) as Promise<RawMessage[]>,
      this.find(this.models.Conversation, conversationIds, CONVERSATION_FIELDS) as Promise<RawConversation[]>,
    ]);
    return { messages, conversations };
  }

  /**
   * What building the messages' slots needs beyond them: their conversations (some already at hand) and the
   * questions their answers reply to (usually among the messages, else looked up by id).
   */
  async context(messages: RawMessage[], known: RawConversation[]) {
    const conversations = new Map(known.map((conversation) => [conversation._id.toString(), conversation]));
    const questions = new Map(
      messages.filter((message) => message.role === 'user').map((message) => [message._id.toString(), message.content]),
    );
    const missingConversations = messages.map((m) => m.conversationId).filter((id) => !conversations.has(String(id)));
    const missingQuestions = messages.flatMap((message) =>
      message.role === 'assistant' && message.replyTo && !questions.has(message.replyTo.toString())
        ? [message.replyTo]
        : [],
    );
    const [moreConversations, moreQuestions] = await Promise.all([
      this.find(this.models.Conversation, missingConversations, CONVERSATION_FIELDS) as Promise<RawConversation[]>,
      this.find(this.models.Message, missingQuestions, '_id content') as Promise<RawMessage[]>,
    ]);
    for (const conversation of moreConversations) conversations.set(conversation._id.toString(), conversation);
    for (const message of moreQuestions) questions.set(message._id.toString(), message.content);
    return {
      conversationOf: (id: Types.ObjectId) => conversations.get(id.toString()),
      questionOf: (id: Types.ObjectId) => questions.get(id.toString()) ?? undefined,
    };
  }

  private async find(
    model: MessageModel | ConversationModel,
    ids: Types.ObjectId[],
    fields: string,
  ): Promise<unknown[]> {
    const unique = [...new Set(ids.map(String))].map((id) => new Types.ObjectId(id));
    if (unique.length === 0) return [];
    return (model as MessageModel).find({ _id: { $in: unique } }, fields).lean();
  }
}
