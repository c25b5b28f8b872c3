import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { MessageDto } from '../../shared/schemas/chat.js';
import type { ConversationChannel, ConversationSummary } from '../../shared/schemas/conversations.js';
import type { EndUser } from '../chat/chat.types.js';
import type { PendingAction } from '../actions/tool-turn.js';
import { escapeRegex, listFilter, type ListFilters } from '../db/list-filter.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import type { ConversationDoc, ConversationModel } from './conversation.model.js';
import type { MessageDoc, MessageModel } from './message.model.js';
import { AppError } from '../errors/app-error.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { MessageRecord, StoredMessage } from './message.model.js';
import type { ConversationRecord, StoredConversation } from './conversation.model.js';
import { RecentDeletions } from './recent-deletions.js';
import { TurnWrites } from './turn-writes.js';
import { AnswerMessages, ANSWER_WRITES_LINGER_MS, pendingAnswer, type AnswerLease } from './answer-messages.js';
import { isoTime } from '../lib/iso-time.js';

const SESSION_PREFIX = 'session:';
/** The message fields that counting readers (analytics) need besides the text. */
const COUNTED_MESSAGE_FIELDS = Object.fromEntries(
  [
    'organizationId',
    'chatbotId',
    'conversationId',
    'role',
    'status',
    'confidence',
    'sources.sourceId',
    'sources.title',
    'sources.url',
    'promptTokens',
    'completionTokens',
    'error',
    'feedback.rating',
    'firstTokenMs',
    'replyTo',
    'createdAt',
    'updatedAt',
  ].map((field) => [field, 1]),
);

/** A conversation as counting readers (analytics) read it. */
type CountedConversation = Pick<
  ConversationDoc,
  'organizationId' | 'chatbotId' | 'channel' | 'visitorId' | 'sessionKey' | 'createdAt' | 'updatedAt'
> & { _id: Types.ObjectId };

/** The conversation fields that counting readers (analytics) need. */
const COUNTED_CONVERSATION_FIELDS = Object.fromEntries(
  ['organizationId', 'chatbotId', 'channel', 'visitorId', 'sessionKey', 'createdAt', 'updatedAt'].map((field) => [
    field,
    1,
  ]),
);

export function toMessageDto(doc: StoredMessage): MessageDto {
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
    notice: doc.finishReason === 'model_unavailable' ? 'knowledge_only' : doc.askedForEmail ? 'ask_email' : null,
    ...(doc.toolCalls?.length ? { toolCalls: doc.toolCalls.map(toolCallDto) } : {}),
    ...(doc.pendingAction ? { pendingAction: pendingActionDto(doc.pendingAction as PendingAction) } : {}),
    createdAt: isoTime(doc.createdAt),
  };
}

/** What anyone reading the answer may see of the action it waits for: never the token that answers it. */
function pendingActionDto(pending: PendingAction): NonNullable<MessageDto['pendingAction']> {
  return { action: pending.name, description: pending.description, arguments: pending.arguments ?? null };
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
    channel: doc.channel as ConversationChannel,
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
  channel: ConversationChannel;
  conversationId?: string | null;
  sessionId?: string | null;
  visitorId?: string | null;
  user?: EndUser | null;
  metadata?: Record<string, unknown>;
  pageUrl?: string | null;
  /**
   * The turn's message, counted on a conversation `open` starts under a key of its own (`opensNew`): written with
   * the conversation, so its first message costs no counters' write of its own (see `uncountFirst`).
   */
  firstMessage?: string;
}

export type ConversationFilters = ListFilters;

/** What an announcement of `conversation.changed` offers in-process subscribers (see `ConversationsService.changed`). */
export interface Announced {
  /** Records exactly as just stored, by id (conversation and messages; plain or hydrated). */
  records: Map<string, unknown>;
  /** The turn announces another change of the conversation shortly. */
  followUp: boolean;
  /** Nobody waits for this change to be applied: a subscriber may hold it briefly to apply it with others. */
  lingering: boolean;
}

/** The characters of a conversation's last message kept as its preview. */
const PREVIEW_LENGTH = 200;

/** A conversation's last-message fields once a message, `content`, is stored at `now`. */
function lastMessage(content: string, now: Date) {
  return { lastMessageAt: now, lastMessagePreview: content.slice(0, PREVIEW_LENGTH) };
}

/** A conversation's counters with no message stored (see `uncountFirst`). */
function noMessage(now: Date) {
  return { messageCount: 0, lastMessageAt: null, lastMessagePreview: '', updatedAt: now };
}

/** Whether the door (and widget visitor) of `input` is the one that started the conversation. */
function ownedBy(doc: StoredConversation, input: OpenConversationInput): boolean {
  if (doc.channel !== input.channel) return false;
  return input.channel !== 'widget' || (Boolean(input.visitorId) && doc.visitorId === input.visitorId);
}

/**
 * Conversations and their messages: the one owner of both collections. The chat flow, leads and the widget
 * read and write them through this service; the bot's answers once started, through its `answers`.
 */
export class ConversationsService {
  /**
   * New conversations and the conversations' counters written in one tick: one bulk write; the turns' messages
   * inserted in one tick: one insert (see `TurnWrites`).
   */
  private readonly turnWrites: TurnWrites;
  /** The bot's answers among the messages: their lifecycle and the actions they pause for. */
  readonly answers: AnswerMessages;
  /** The announcement being published, by conversation id (see `changed`). */
  private readonly announcing = new Map<string, Announced>();
  /** On a sole server, the deletions started here (see `mayBeDeletedSince`). */
  private readonly deletions: RecentDeletions | null;

  constructor(
    private readonly models: { Conversation: ConversationModel; Message: MessageModel },
    /** Announces `message.feedback` and `conversation.changed`. */
    private readonly events: EventPublisher,
    /** No other server node uses the database (`AppDeps.soleServer`): every deletion goes through this process. */
    deployment: { soleServer?: boolean } = {},
  ) {
    this.deletions = deployment.soleServer ? new RecentDeletions() : null;
    this.turnWrites = new TurnWrites(models);
    this.answers = new AnswerMessages(models.Message);
  }

  /**
   * Announces that records of a conversation were written or changed: the conversation itself (when listed)
   * and the messages listed. With `asWritten`, the records given are exactly as this process just stored them
   * (the turn's own writes): in-process subscribers (analytics) take them from `announced` instead of reading
   * them back, and `context` offers more records as stored (an answer's question). `followUp` says the same
   * turn announces another change of the conversation shortly (its answer), so a subscriber may apply both at once;
   * `lingering` that the caller does not wait for it (a finished answer), so a subscriber may hold it briefly to
   * apply it with the changes announced about then.
   */
  async changed(
    conversation: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId; conversationId: Types.ObjectId },
    records: Array<{ _id: Types.ObjectId; createdAt: Date }>,
    options: {
      asWritten?: boolean;
      context?: Array<{ _id: Types.ObjectId }>;
      followUp?: boolean;
      lingering?: boolean;
    } = {},
  ): Promise<void> {
    const conversationId = conversation.conversationId.toString();
    const payload = {
      organizationId: conversation.organizationId.toString(),
      chatbotId: conversation.chatbotId.toString(),
      conversationId,
      recordsCreatedAt: records.map((record) => isoTime(record.createdAt)),
      messageIds: records
        .filter((record) => !record._id.equals(conversation.conversationId))
        .map((record) => record._id.toString()),
    };
    if (!options.asWritten && !options.followUp && !options.lingering) {
      return this.events.publish('conversation.changed', payload);
    }
    const written = new Map<string, unknown>();
    if (options.asWritten) {
      for (const record of [...records, ...(options.context ?? [])]) written.set(record._id.toString(), record);
    }
    // Subscribers are called synchronously by `publish`, so they see this only for their own announcement.
    this.announcing.set(conversationId, {
      records: written,
      followUp: options.followUp ?? false,
      lingering: options.lingering ?? false,
    });
    try {
      const published = this.events.publish('conversation.changed', payload);
      this.announcing.delete(conversationId);
      await published;
    } finally {
      this.announcing.delete(conversationId);
    }
  }

  /**
   * During a `conversation.changed` being published (synchronously, as a subscriber is called): the records it
   * announced as just written, by id, and whether the turn announces again shortly. Undefined otherwise.
   */
  announced(conversationId: string): Announced | undefined {
    return this.announcing.get(conversationId);
  }

  /**
   * Whether a conversation this process read or wrote (its record's `updatedAt` as it was then) may have been
   * deleted since: false only on a sole server, when no deletion of it or of its bot started here since, so a
   * counting reader (analytics) need not read it back to know it still exists.
   */
  mayBeDeletedSince(conversation: {
    _id: Types.ObjectId;
    chatbotId: Types.ObjectId;
    updatedAt?: Date | null;
  }): boolean {
    if (!this.deletions || !(conversation.updatedAt instanceof Date)) return true;
    return this.deletions.mayHaveStartedSince(
      conversation._id.toString(),
      conversation.chatbotId.toString(),
      conversation.updatedAt,
    );
  }

  /**
   * Conversations by id as plain records of the fields counting readers (analytics) use, read by the driver
   * (a turn's analytics reads its conversation back).
   */
  conversationRecords(ids: Types.ObjectId[]): Promise<CountedConversation[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.models.Conversation.collection
      .find({ _id: { $in: ids } }, { projection: COUNTED_CONVERSATION_FIELDS })
      .toArray() as Promise<CountedConversation[]>;
  }

  /** Messages by id as plain records, for readers that only count them (analytics). */
  messageRecords(ids: Types.ObjectId[]): Promise<Array<MessageDoc & { _id: Types.ObjectId }>> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.models.Message.find({ _id: { $in: ids } }, { content: 1, ...COUNTED_MESSAGE_FIELDS }).lean<
      Array<MessageDoc & { _id: Types.ObjectId }>
    >();
  }

  /**
   * A bot's conversations and messages as plain records, those created in [from, to) when given. The embedded
   * engine scans whole collections for this: only for background work (analytics' backfill and reconciliation).
   */
  async recordsOfBot(chatbotId: Types.ObjectId, created?: { from: Date; to: Date }) {
    const filter = { chatbotId, ...(created ? { createdAt: { $gte: created.from, $lt: created.to } } : {}) };
    const [conversations, messages] = await Promise.all([
      this.models.Conversation.find(filter).lean<Array<ConversationDoc & { _id: Types.ObjectId }>>(),
      this.models.Message.find(filter, { content: 1, ...COUNTED_MESSAGE_FIELDS }).lean<
        Array<MessageDoc & { _id: Types.ObjectId }>
      >(),
    ]);
    return { conversations, messages };
  }

  /** Every bot's conversations and messages last changed in [from, to], as plain records (a scan: background only). */
  async recordsUpdatedBetween(from: Date, to: Date) {
    const filter = { updatedAt: { $gte: from, $lte: to } };
    const [conversations, messages] = await Promise.all([
      this.models.Conversation.find(filter).lean<Array<ConversationDoc & { _id: Types.ObjectId }>>(),
      this.models.Message.find(filter, { content: 1, ...COUNTED_MESSAGE_FIELDS }).lean<
        Array<MessageDoc & { _id: Types.ObjectId }>
      >(),
    ]);
    return { conversations, messages };
  }

  /** Removes a deleted bot's conversations and their messages. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const byBot = { chatbotId: new Types.ObjectId(chatbotId) };
    this.deletions?.started('bot', chatbotId);
    await Promise.all([this.models.Conversation.deleteMany(byBot), this.models.Message.deleteMany(byBot)]);
  }

  /**
   * True when `open` will start a new conversation under a key of its own (neither a conversation nor a session
   * named): no message can be in it yet, so a turn need not look for an earlier send of its message.
   */
  opensNew(input: Pick<OpenConversationInput, 'conversationId' | 'sessionId'>): boolean {
    return !input.conversationId && !input.sessionId;
  }

  /**
   * Continues the given conversation, the session's, or starts a new one. A conversation belongs to the
   * door that started it (and, for the widget, to its visitor): any other bot, organization, door or
   * visitor gets the same 404 as an unknown id, so ids reveal nothing.
   */
  async open(input: OpenConversationInput): Promise<StoredConversation> {
    if (input.conversationId) {
      // Read by the driver as stored (the filter's values are of the schema's types): no query cast, no hydration.
      const found = (await this.models.Conversation.collection.findOne({
        _id: new Types.ObjectId(input.conversationId),
        organizationId: input.organizationId,
        chatbotId: input.chatbotId,
      })) as StoredConversation | null;
      if (!found || !ownedBy(found, input))
        throw new AppError('NotFoundError', {
          message: `No conversation with id "${input.conversationId}" for this chatbot`,
        });
      await this.applyUser(found, input.user);
      return found;
    }
    const sessionKey = input.sessionId ? SESSION_PREFIX + input.sessionId : `auto:${randomUUID()}`;
    const { Conversation } = this.models;
    // What mongoose's upsert would write (the schema's defaults and the creation time on insert, `updatedAt`
    // always), of the schema's types already: the driver's call, without casting the update and hydrating the
    // result (most of the CPU the upsert cost a turn). The id is the database's, as with mongoose.
    const { _id: _generated, ...inserted } = Conversation.applyDefaults({
      organizationId: input.organizationId,
      chatbotId: input.chatbotId,
      channel: input.channel,
      sessionKey,
      visitorId: input.visitorId ?? null,
      user: { sub: input.user?.sub ?? null, name: input.user?.name ?? null, email: input.user?.email ?? null },
      metadata: input.metadata ?? {},
      pageUrl: input.pageUrl ?? null,
    }) as ConversationDoc & { _id: Types.ObjectId };
    const now = new Date();
    if (this.opensNew(input) && input.firstMessage !== undefined) {
      // A key of its own: the upsert inserts, and no other turn can add to the conversation before this one is
      // accepted (its id is not known yet), so its first message is counted as it is written.
      Object.assign(inserted, { messageCount: 1, ...lastMessage(input.firstMessage, now) });
    }
    // Upsert on the unique (bot, session) key, so two first messages of one session share a conversation.
    const filter = { chatbotId: input.chatbotId, sessionKey };
    const update = { $set: { updatedAt: now }, $setOnInsert: { ...inserted, createdAt: now, __v: 0 } };
    let doc: StoredConversation | null;
    if (input.sessionId) {
      doc = (await Conversation.collection.findOneAndUpdate(filter, update, {
        upsert: true,
        returnDocument: 'after',
      })) as StoredConversation | null;
    } else {
      // A random key inserts: upserted with the other new conversations of the tick in one bulk write, the record
      // is what the upsert stored (the id the database gave it, and the fields written), as `findOneAndUpdate`
      // returned it. Read back only when the key matched one stored after all.
      const id = await this.turnWrites.upsertConversation({ filter, update });
      doc = id
        ? ({ _id: id, ...inserted, updatedAt: now, createdAt: now, __v: 0 } as StoredConversation)
        : ((await Conversation.collection.findOne(filter)) as StoredConversation | null);
    }
    if (!doc || !doc.organizationId.equals(input.organizationId) || !ownedBy(doc, input))
      throw new AppError('NotFoundError', { message: 'No such conversation' });
    await this.applyUser(doc, input.user);
    return doc;
  }

  /**
   * Records a turn on the conversation's counters with one atomic update; returns the message count after it
   * (1 only for the conversation's first message, even when several arrive at once).
   */
  async touch(conversationId: Types.ObjectId, preview: string, addedMessages: number): Promise<number> {
    // Plain values of the schema's types, its timestamp included: the driver's call, without mongoose's casting.
    const now = new Date();
    const after = await this.models.Conversation.collection.findOneAndUpdate(
      { _id: conversationId },
      {
        $inc: { messageCount: addedMessages },
        $set: { ...lastMessage(preview, now), updatedAt: now },
      },
      { returnDocument: 'after', projection: { messageCount: 1 } },
    );
    return (after?.messageCount as number | undefined) ?? 0;
  }

  /**
   * Takes back the first message counted by `open` (`firstMessage`) when the turn could not store it: the
   * conversation then holds none. No other turn can have added to it (the turn was not accepted).
   */
  async uncountFirst(conversation: StoredConversation): Promise<void> {
    const none = noMessage(new Date());
    await this.turnWrites.updateConversation(conversation._id, { $set: none });
    Object.assign(conversation, none);
  }

  /**
   * Records an answer on the conversation's counters: one atomic update, written with others of its tick, after
   * waiting up to `ANSWER_WRITES_LINGER_MS` for a new conversation's write to ride on (under load one comes
   * within a few ms, so the answers' counters seldom cost a write of their own).
   */
  async touchAnswered(conversationId: Types.ObjectId, preview: string): Promise<void> {
    const now = new Date();
    await this.turnWrites.updateConversation(
      conversationId,
      {
        $inc: { messageCount: 1 },
        $set: { ...lastMessage(preview, now), updatedAt: now },
      },
      { lingerMs: ANSWER_WRITES_LINGER_MS },
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

  /** Conversations by id (any order; unknown ids are left out). */
  byIds(ids: Types.ObjectId[]): Promise<ConversationRecord[]> {
    return this.models.Conversation.find({ _id: { $in: ids } });
  }

  /** The newest `limit` of these conversations, each with up to `perConversation` messages in order. */
  async transcripts(ids: Types.ObjectId[], limit: number, perConversation: number) {
    const docs = await this.models.Conversation.find({ _id: { $in: ids } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit);
    return Promise.all(
      docs.map(async (conversation) => {
        const messages = await this.models.Message.find({ conversationId: conversation._id })
          .sort({ createdAt: 1, _id: 1 })
          .limit(perConversation);
        return { ...toConversationSummary(conversation), messages: messages.map(toMessageDto) };
      }),
    );
  }

  /** A conversation of the bot by id, or null. */
  ofBot(chatbotId: Types.ObjectId, conversationId: string): Promise<ConversationRecord | null> {
    if (!Types.ObjectId.isValid(conversationId)) return Promise.resolve(null);
    return this.models.Conversation.findOne({ _id: new Types.ObjectId(conversationId), chatbotId });
  }

  /** The conversation points at its lead; one without a signed identity also takes the lead's name and email. */
  async linkLead(conversationId: Types.ObjectId, leadId: Types.ObjectId, email: string | null, name: string | null) {
    await this.models.Conversation.updateOne({ _id: conversationId }, { $set: { leadId } });
    const user: Record<string, string> = {};
    if (email) user['user.email'] = email;
    if (name) user['user.name'] = name;
    if (Object.keys(user).length === 0) return;
    // A signed end-user identity is the site owner's word about who this is; a form does not overwrite it.
    await this.models.Conversation.updateOne({ _id: conversationId, 'user.sub': null }, { $set: user });
  }

  /**
   * Forgets an erased lead in its conversations (those listed and those pointing at it): no lead, name or
   * email, and `email` replaced by `redacted` wherever it was typed into a message or preview.
   */
  async forgetLead(leadId: Types.ObjectId, ids: Types.ObjectId[], email: string | null, redacted: string) {
    const linked = await this.models.Conversation.find({ $or: [{ _id: { $in: ids } }, { leadId }] }, { _id: 1 }).lean<
      Array<{ _id: Types.ObjectId }>
    >();
    const conversationIds = linked.map((c) => c._id);
    if (email) await this.redact(conversationIds, email, redacted);
    await this.models.Conversation.updateMany(
      { _id: { $in: conversationIds } },
      { $set: { leadId: null, 'user.email': null, 'user.name': null } },
    );
  }

  private async redact(conversationIds: Types.ObjectId[], text: string, replacement: string): Promise<void> {
    const pattern = new RegExp(escapeRegex(text), 'gi');
    const mentions = new RegExp(escapeRegex(text), 'i');
    const messages = await this.models.Message.find(
      { conversationId: { $in: conversationIds }, content: mentions },
      { content: 1 },
    );
    for (const message of messages) {
      await this.models.Message.updateOne(
        { _id: message._id },
        { $set: { content: message.content.replace(pattern, replacement) } },
      );
    }
    const previews = await this.models.Conversation.find(
      { _id: { $in: conversationIds }, lastMessagePreview: mentions },
      { lastMessagePreview: 1 },
    );
    for (const conversation of previews) {
      await this.models.Conversation.updateOne(
        { _id: conversation._id },
        { $set: { lastMessagePreview: conversation.lastMessagePreview.replace(pattern, replacement) } },
      );
    }
  }

  /** The end user's message sent under `clientMessageId` in this conversation, if stored. */
  findUserMessage(conversationId: Types.ObjectId, clientMessageId: string): Promise<MessageRecord | null> {
    return this.models.Message.findOne({ conversationId, clientMessageId, role: 'user' });
  }

  /**
   * Stores an end user's new message and the pending answer to it (under `lease`) in one ordered write: a
   * second `clientMessageId` in the conversation fails with a duplicate key and stores neither. The records
   * returned are exactly what was stored, as plain fields (no mongoose document: building two cost more than
   * the rest of the turn's message handling).
   */
  async createTurnMessages(
    conversation: StoredConversation,
    content: string,
    clientMessageId: string,
    lease: AnswerLease,
  ): Promise<{ userMessage: StoredMessage; answer: StoredMessage }> {
    const owner = {
      organizationId: conversation.organizationId,
      chatbotId: conversation.chatbotId,
      conversationId: conversation._id,
    };
    const questionId = new Types.ObjectId();
    const now = new Date();
    const stamps = { createdAt: now, updatedAt: now, __v: 0 };
    // The schema's defaults filled in by mongoose (`applyDefaults`), the values of its types
    // already, written by the driver in one ordered insert (with the other turns' of the tick, see `TurnWrites`):
    // the turn's own values need no validation round.
    const { Message } = this.models;
    const userMessage = Message.applyDefaults({
      _id: questionId,
      ...owner,
      role: 'user',
      content,
      status: 'complete',
      clientMessageId,
      ...stamps,
    }) as StoredMessage;
    const answer = Message.applyDefaults({
      _id: new Types.ObjectId(),
      ...pendingAnswer({ _id: questionId, ...owner }, lease),
      ...stamps,
    }) as StoredMessage;
    await this.turnWrites.insertMessages([userMessage, answer]);
    return { userMessage, answer };
  }

  /** One message as stored now. */
  message(id: Types.ObjectId): Promise<MessageRecord | null> {
    return this.models.Message.findOne({ _id: id });
  }

  /** The newest complete messages of a conversation, oldest first, leaving out `except`. */
  async history(
    conversationId: Types.ObjectId,
    except: Types.ObjectId[],
    limit: number,
  ): Promise<Array<{ role: 'user' | 'assistant'; content: string }>> {
    const docs = await this.models.Message.find({ conversationId, status: 'complete', _id: { $nin: except } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean();
    return docs
      .reverse()
      .map((doc) => ({ role: doc.role === 'assistant' ? 'assistant' : 'user', content: doc.content ?? '' }));
  }

  /** A widget visitor's own conversation with the bot, or null (another visitor's looks the same as none). */
  visitorConversation(
    chatbotId: Types.ObjectId,
    visitorId: string,
    conversationId: string,
  ): Promise<ConversationRecord | null> {
    if (!Types.ObjectId.isValid(conversationId)) return Promise.resolve(null);
    return this.models.Conversation.findOne({ _id: new Types.ObjectId(conversationId), chatbotId, visitorId });
  }

  /** The most recent conversation of a widget visitor with a bot, if any. */
  async latestForVisitor(chatbotId: Types.ObjectId, visitorId: string): Promise<ConversationRecord | null> {
    return this.models.Conversation.findOne({ chatbotId, visitorId }).sort({ updatedAt: -1, _id: -1 });
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    this.deletions?.started('conversation', doc._id.toString());
    await this.models.Message.deleteMany({ conversationId: doc._id });
    await this.models.Conversation.deleteOne({ _id: doc._id });
    await this.events.publish('conversation.deleted', {
      organizationId: doc.organizationId.toString(),
      chatbotId: doc.chatbotId.toString(),
      conversationId: doc._id.toString(),
      createdFrom: doc.createdAt.toISOString(),
      createdTo: new Date().toISOString(),
    });
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
    await this.changed(doc, [doc]);
    await this.events.notifyDurably('message.feedback', {
      organizationId: doc.organizationId.toString(),
      chatbotId: doc.chatbotId.toString(),
      conversationId: doc.conversationId.toString(),
      messageId: doc._id.toString(),
      rating,
      comment: comment ?? null,
    });
    return toMessageDto(doc);
  }

  private async applyUser(doc: StoredConversation, user: EndUser | null | undefined): Promise<void> {
    if (!user) return;
    const next = {
      sub: user.sub,
      name: user.name ?? doc.user?.name ?? null,
      email: user.email ?? doc.user?.email ?? null,
    };
    // As `save()` wrote the document: only the fields that changed, with `updatedAt`, and nothing when none did.
    const changed = Object.entries(next).filter(
      ([field, value]) => (doc.user?.[field as keyof typeof next] ?? null) !== value,
    );
    if (changed.length === 0) return;
    const now = new Date();
    await this.models.Conversation.collection.updateOne(
      { _id: doc._id },
      { $set: { ...Object.fromEntries(changed.map(([field, value]) => [`user.${field}`, value])), updatedAt: now } },
    );
    doc.user = next;
    doc.updatedAt = now;
  }
}
