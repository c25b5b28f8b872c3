import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { MessageDto } from '../../shared/schemas/chat.js';
import type { ConversationSummary } from '../../shared/schemas/conversations.js';
import type { EndUser } from '../chat/chat.types.js';
import { listFilter, type ListFilters } from '../db/list-filter.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import type { ConversationModel } from './conversation.model.js';
import type { MessageModel } from './message.model.js';
import { AppError } from '../errors/app-error.js';
import type { MessageRecord } from './message.model.js';
import type { ConversationRecord } from './conversation.model.js';

const SESSION_PREFIX = 'session:';

export function toMessageDto(doc: MessageRecord): MessageDto {
  return {
    id: doc._id.toString(),
    conversationId: doc.conversationId.toString(),
    role: doc.role === 'assistant' ? 'assistant' : 'user',
    content: doc.content ?? '',
    status: doc.status === 'failed' ? 'failed' : doc.status === 'pending' ? 'pending' : 'complete',
    clientMessageId: doc.role === 'user' ? doc.clientMessageId : null,
    sources: (doc.sources ?? []).map((s) => ({
      sourceId: s.sourceId ?? '',
      title: s.title ?? '',
      url: s.url ?? null,
      excerpt: s.excerpt ?? '',
      score: s.score ?? 0,
    })),
    confidence: doc.confidence ?? null,
    feedback: doc.feedback?.rating === 'up' || doc.feedback?.rating === 'down' ? doc.feedback.rating : null,
    ...(doc.toolCalls?.length ? { toolCalls: doc.toolCalls.map(toolCallDto) } : {}),
    createdAt: doc.createdAt.toISOString(),
  };
}

function toolCallDto(call: Record<string, unknown>): NonNullable<MessageDto['toolCalls']>[number] {
  return {
    name: String(call.name),
    arguments: call.arguments ?? null,
    status: String(call.status),
    result: call.result ?? null,
    error: typeof call.error === 'string' ? call.error : null,
  };
}

export function toConversationSummary(doc: ConversationRecord): ConversationSummary {
  const hasUser = Boolean(doc.user?.sub || doc.user?.email || doc.user?.name);
  return {
    id: doc._id.toString(),
    chatbotId: doc.chatbotId.toString(),
    channel: doc.channel === 'widget' ? 'widget' : 'api',
    sessionId: doc.sessionKey.startsWith(SESSION_PREFIX) ? doc.sessionKey.slice(SESSION_PREFIX.length) : null,
    visitorId: doc.visitorId ?? null,
    user: hasUser ? { sub: doc.user?.sub ?? null, name: doc.user?.name ?? null, email: doc.user?.email ?? null } : null,
    leadId: doc.leadId ? doc.leadId.toString() : null,
    messageCount: doc.messageCount ?? 0,
    lastMessage: doc.lastMessageAt
      ? { preview: doc.lastMessagePreview ?? '', at: doc.lastMessageAt.toISOString() }
      : null,
    metadata: (doc.metadata ?? {}) as Record<string, unknown>,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export interface OpenConversationInput {
  organizationId: Types.ObjectId;
  chatbotId: Types.ObjectId;
  channel: 'api' | 'widget';
  conversationId?: string | null;
  sessionId?: string | null;
  visitorId?: string | null;
  user?: EndUser | null;
  metadata?: Record<string, unknown>;
  pageUrl?: string | null;
}

export type ConversationFilters = ListFilters;

/** Whether the door (and widget visitor) of `input` is the one that started the conversation. */
function ownedBy(doc: ConversationRecord, input: OpenConversationInput): boolean {
  if (doc.channel !== input.channel) return false;
  return input.channel !== 'widget' || (Boolean(input.visitorId) && doc.visitorId === input.visitorId);
}

/** Conversations and their messages, always scoped to one organization. */
export class ConversationsService {
  constructor(private readonly models: { Conversation: ConversationModel; Message: MessageModel }) {}

  /** Removes a deleted bot's conversations and their messages. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const byBot = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([this.models.Conversation.deleteMany(byBot), this.models.Message.deleteMany(byBot)]);
  }

  /**
   * Continues the given conversation, the session's, or starts a new one. A conversation belongs to the
   * door that started it (and, for the widget, to its visitor): any other bot, organization, door or
   * visitor gets the same 404 as an unknown id, so ids reveal nothing.
   */
  async open(input: OpenConversationInput): Promise<ConversationRecord> {
    if (input.conversationId) {
      const found = await this.models.Conversation.findOne({
        _id: new Types.ObjectId(input.conversationId),
        organizationId: input.organizationId,
        chatbotId: input.chatbotId,
      });
      if (!found || !ownedBy(found, input))
        throw new AppError('NotFoundError', {
          message: `No conversation with id "${input.conversationId}" for this chatbot`,
        });
      await this.applyUser(found, input.user);
      return found;
    }
    const sessionKey = input.sessionId ? SESSION_PREFIX + input.sessionId : `auto:${randomUUID()}`;
    const fields = {
      organizationId: input.organizationId,
      chatbotId: input.chatbotId,
      channel: input.channel,
      sessionKey,
      visitorId: input.visitorId ?? null,
      user: { sub: input.user?.sub ?? null, name: input.user?.name ?? null, email: input.user?.email ?? null },
      metadata: input.metadata ?? {},
      pageUrl: input.pageUrl ?? null,
    };
    // Upsert on the unique (bot, session) key, so two first messages of one session share a conversation.
    const doc = await this.models.Conversation.findOneAndUpdate(
      { chatbotId: input.chatbotId, sessionKey },
      { $setOnInsert: fields },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc.organizationId.equals(input.organizationId) || !ownedBy(doc, input))
      throw new AppError('NotFoundError', { message: 'No such conversation' });
    await this.applyUser(doc, input.user);
    return doc;
  }

  /** Records a turn on the conversation's counters with one atomic update. */
  async touch(conversationId: Types.ObjectId, preview: string, addedMessages: number): Promise<void> {
    await this.models.Conversation.updateOne(
      { _id: conversationId },
      {
        $inc: { messageCount: addedMessages },
        $set: { lastMessageAt: new Date(), lastMessagePreview: preview.slice(0, 200) },
      },
    );
  }

  async list(organizationId: string, filters: ConversationFilters, page: number, perPage: number) {
    const filter = listFilter(organizationId, filters, ['lastMessagePreview', 'user.email', 'user.name']);
    const { items: docs, total } = await findPage(
      this.models.Conversation.find(filter).sort(NEWEST_FIRST),
      this.models.Conversation.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toConversationSummary), total };
  }

  async find(organizationId: string, id: string): Promise<ConversationRecord> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.models.Conversation.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No conversation with id "${id}"` });
    return doc;
  }

  async detail(organizationId: string, id: string) {
    const doc = await this.find(organizationId, id);
    const messages = await this.models.Message.find({ conversationId: doc._id })
      .sort({ createdAt: 1, _id: 1 })
      .limit(1000);
    return { ...toConversationSummary(doc), messages: messages.map(toMessageDto) };
  }

  async messages(organizationId: string, id: string, page: number, perPage: number) {
    const doc = await this.find(organizationId, id);
    const filter = { conversationId: doc._id };
    const { items: docs, total } = await findPage(
      this.models.Message.find(filter).sort({ createdAt: 1, _id: 1 }),
      this.models.Message.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toMessageDto), total };
  }

  /** Messages of a conversation in order, optionally only those after a given message (for reconnecting widgets). */
  async messagesAfter(
    conversationId: Types.ObjectId,
    afterMessageId?: string | null,
    limit = 200,
  ): Promise<MessageDto[]> {
    const filter: Record<string, unknown> = { conversationId };
    if (afterMessageId && Types.ObjectId.isValid(afterMessageId)) {
      const after = await this.models.Message.findOne({ _id: afterMessageId, conversationId }, { createdAt: 1 }).lean();
      if (after) {
        filter.$or = [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, _id: { $gt: after._id } }];
      }
    }
    const docs = await this.models.Message.find(filter).sort({ createdAt: 1, _id: 1 }).limit(limit);
    return docs.map(toMessageDto);
  }

  /** The most recent conversation of a widget visitor with a bot, if any. */
  async latestForVisitor(chatbotId: Types.ObjectId, visitorId: string): Promise<ConversationRecord | null> {
    return this.models.Conversation.findOne({ chatbotId, visitorId }).sort({ updatedAt: -1, _id: -1 });
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    await this.models.Message.deleteMany({ conversationId: doc._id });
    await this.models.Conversation.deleteOne({ _id: doc._id });
  }

  /** Records the end user's thumbs up or down on an answer of this organization. */
  async feedback(
    organizationId: string | null,
    messageId: string,
    rating: 'up' | 'down',
    comment?: string,
    chatbotId?: Types.ObjectId,
  ) {
    const filter: Record<string, unknown> = {
      _id: Types.ObjectId.isValid(messageId) ? new Types.ObjectId(messageId) : null,
      role: 'assistant',
    };
    if (organizationId) filter.organizationId = new Types.ObjectId(organizationId);
    if (chatbotId) filter.chatbotId = chatbotId;
    const doc = await this.models.Message.findOneAndUpdate(
      filter,
      { $set: { feedback: { rating, comment: comment ?? null, at: new Date() } } },
      { returnDocument: 'after' },
    );
    if (!doc) throw new AppError('NotFoundError', { message: `No answer with id "${messageId}"` });
    return toMessageDto(doc);
  }

  private async applyUser(doc: ConversationRecord, user: EndUser | null | undefined): Promise<void> {
    if (!user) return;
    doc.set('user', {
      sub: user.sub,
      name: user.name ?? doc.user?.name ?? null,
      email: user.email ?? doc.user?.email ?? null,
    });
    await doc.save();
  }
}
