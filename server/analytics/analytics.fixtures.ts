import { Types } from 'mongoose';
import type { RunningApp } from '../app.js';
import type { Models } from '../services.js';

/** An answer as a history states it; `status` defaults to complete. */
export interface AnswerSpec {
  status?: 'complete' | 'failed' | 'pending';
  confidence?: number;
  sources?: Array<{ sourceId: string; title: string; url?: string | null }>;
  promptTokens?: number;
  completionTokens?: number;
  error?: string | null;
  feedback?: 'up' | 'down' | null;
  firstTokenMs?: number | null;
  /** Seconds after the question; 1 by default. */
  after?: number;
}

type Doc = Record<string, unknown>;

/**
 * Builds raw records the way the chat engine stores them, with chosen creation times, to be inserted in bulk
 * through the driver (mongoose would stamp the current time): a known history for analytics to agree with.
 */
export class HistoryBuilder {
  readonly conversations: Doc[] = [];
  readonly messages: Doc[] = [];
  readonly leads: Doc[] = [];

  constructor(
    private readonly organizationId: Types.ObjectId,
    private readonly chatbotId: Types.ObjectId,
  ) {}

  /** A conversation started at `at` by a widget visitor, an API session, or (neither) an anonymous API call. */
  conversation(at: string | Date, by: { channel: 'widget' | 'api'; visitorId?: string; sessionId?: string }) {
    const _id = new Types.ObjectId();
    const createdAt = new Date(at);
    this.conversations.push({
      _id,
      organizationId: this.organizationId,
      chatbotId: this.chatbotId,
      channel: by.channel,
      sessionKey: by.sessionId ? `session:${by.sessionId}` : `auto:${_id.toString()}`,
      visitorId: by.visitorId ?? null,
      user: { sub: null, name: null, email: null },
      leadId: null,
      metadata: {},
      pageUrl: null,
      messageCount: 0,
      lastMessageAt: createdAt,
      lastMessagePreview: '',
      createdAt,
      updatedAt: createdAt,
    });
    const turn = (askedAt: string | Date, question: string, answer?: AnswerSpec) => {
      const questionId = new Types.ObjectId();
      const asked = new Date(askedAt);
      this.messages.push(this.message(_id, questionId, asked, { role: 'user', content: question, status: 'complete' }));
      if (!answer) return chain;
      const answeredAt = new Date(asked.getTime() + (answer.after ?? 1) * 1000);
      this.messages.push(
        this.message(_id, new Types.ObjectId(), answeredAt, {
          role: 'assistant',
          content: 'An answer.',
          status: answer.status ?? 'complete',
          replyTo: questionId,
          confidence: answer.confidence ?? 0.9,
          sources: (answer.sources ?? []).map((s) => ({ excerpt: '…', score: 0.5, url: null, ...s })),
          promptTokens: answer.promptTokens ?? 0,
          completionTokens: answer.completionTokens ?? 0,
          error: answer.error ?? null,
          feedback: { rating: answer.feedback ?? null, comment: null, at: answer.feedback ? answeredAt : null },
          firstTokenMs: answer.firstTokenMs ?? null,
          durationMs: null,
        }),
      );
      return chain;
    };
    const chain = { id: _id, turn };
    return chain;
  }

  lead(at: string | Date): void {
    const createdAt = new Date(at);
    this.leads.push({
      organizationId: this.organizationId,
      chatbotId: this.chatbotId,
      dedupeKey: `visitor:${new Types.ObjectId().toString()}`,
      email: null,
      custom: {},
      conversationIds: [],
      createdAt,
      updatedAt: createdAt,
    });
  }

  async insert(models: Models): Promise<void> {
    if (this.conversations.length > 0) await models.Conversation.collection.insertMany(this.conversations);
    for (let at = 0; at < this.messages.length; at += 5_000) {
      await models.Message.collection.insertMany(this.messages.slice(at, at + 5_000));
    }
    if (this.leads.length > 0) await models.Lead.collection.insertMany(this.leads);
  }

  private message(conversationId: Types.ObjectId, _id: Types.ObjectId, createdAt: Date, fields: Doc): Doc {
    return {
      _id,
      organizationId: this.organizationId,
      chatbotId: this.chatbotId,
      conversationId,
      clientMessageId: `seed:${_id.toString()}`,
      replyTo: null,
      sources: [],
      confidence: null,
      promptTokens: 0,
      completionTokens: 0,
      error: null,
      feedback: { rating: null, comment: null, at: null },
      ...fields,
      createdAt,
      updatedAt: createdAt,
    };
  }
}

/**
 * Drops every rollup (days, facts, builds and day flags) and rebuilds the bots' from the raw records alone: what
 * the rollups kept up to date must equal afterwards.
 */
export async function rebuildRollupsFromRecords({ models, services }: RunningApp, chatbotIds: string[]): Promise<void> {
  await Promise.all([
    models.AnalyticsDay.deleteMany({}),
    models.AnalyticsFact.deleteMany({}),
    models.AnalyticsBuild.deleteMany({}),
    models.AnalyticsMark.deleteMany({}),
  ]);
  await services.rollups.backfill(chatbotIds);
}
