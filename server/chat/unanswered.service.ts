import { Types } from 'mongoose';
import { findPage } from '../db/find-page.js';
import type { UnansweredModel } from './unanswered.model.js';
import type { DomainEvents } from '../events/domain-events.js';

/** Answers below this confidence go to the bot's gap log. */
export const LOW_CONFIDENCE = 0.35;

function normalize(question: string): string {
  return question
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** The gap log: what visitors asked that the knowledge could not answer, with repeat counts. */
export class UnansweredService {
  constructor(private readonly models: { Unanswered: UnansweredModel }) {}

  /** Removes a deleted bot's unanswered questions. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    await this.models.Unanswered.deleteMany({ chatbotId: new Types.ObjectId(chatbotId) });
  }

  /** Subscriber of `answer.completed`: a gap (an answer without enough knowledge) is logged with its question. */
  async recordGap(event: DomainEvents['answer.completed']): Promise<void> {
    if (event.answered || !event.questionText) return;
    await this.record(
      new Types.ObjectId(event.organizationId),
      new Types.ObjectId(event.chatbotId),
      event.questionText,
      event.confidence,
    );
  }

  async record(
    organizationId: Types.ObjectId,
    chatbotId: Types.ObjectId,
    question: string,
    confidence: number,
  ): Promise<void> {
    const normalized = normalize(question);
    if (!normalized) return;
    const now = new Date();
    await this.models.Unanswered.updateOne(
      { chatbotId, normalized },
      {
        $inc: { count: 1 },
        $set: { lastAskedAt: now, lastConfidence: confidence, question: question.slice(0, 1000) },
        $setOnInsert: { organizationId, firstAskedAt: now },
      },
      { upsert: true },
    );
  }

  async list(chatbotId: Types.ObjectId, page: number, perPage: number) {
    const filter = { chatbotId };
    const { items: docs, total } = await findPage(
      this.models.Unanswered.find(filter).sort({ count: -1, lastAskedAt: -1, _id: -1 }).lean(),
      this.models.Unanswered.countDocuments(filter),
      page,
      perPage,
    );
    return {
      items: docs.map((doc) => ({
        question: doc.question,
        count: doc.count,
        lastConfidence: doc.lastConfidence,
        firstAskedAt: doc.firstAskedAt.toISOString(),
        lastAskedAt: doc.lastAskedAt.toISOString(),
      })),
      total,
    };
  }
}
