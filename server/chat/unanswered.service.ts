import { Types } from 'mongoose';
import type { GapDto } from '../../shared/schemas/gap-log.js';
import { findPage } from '../db/find-page.js';
import { AppError } from '../errors/app-error.js';
import { ANSWERED_CONFIDENCE } from '../knowledge/confidence.js';
import { processTerm, termsOf } from '../knowledge/index/bot-index.js';
import type { UnansweredModel, UnansweredRecord } from './unanswered.model.js';
import type { DomainEvents } from '../events/domain-events.js';
import { GroupCommit, succeeded, type ItemOutcome } from '../db/group-commit.js';
import { writeErrorsOf } from '../db/write-errors.js';

/** A gap asked once, waiting for its batch (see `UnansweredService.gaps`). */
interface GapAsked {
  /** The bot and the gap's key: askings of one key are counted by one upsert. */
  key: string;
  organizationId: Types.ObjectId;
  chatbotId: Types.ObjectId;
  normalized: string;
  question: string;
  confidence: number;
  at: Date;
}

/** Answers below this confidence go to the bot's gap log. */
export const LOW_CONFIDENCE = ANSWERED_CONFIDENCE;

/** Words of greetings, thanks and small talk: a message made only of these is no question to answer. */
const SMALL_TALK = new Set(
  (
    'hi hello hey hiya howdy yo sup morning afternoon evening night good great nice cool awesome ok okay ' +
    'fine thanks thank thx ty cheers bye goodbye later yes yeah yep no nope sure please welcome lol haha ' +
    'test testing bot there everyone go going doing today tell joke meet robot human real love hate stupid dumb ' +
    'funny name bored sorry oops wow hmm'
  )
    .split(' ')
    .map((word) => processTerm(word))
    .filter((term): term is string => term !== null),
);

/**
 * The key repeats of a question share: its content words, stemmed and sorted, so "What are your
 * hours?" and "your hours" count together. Null for greetings and small talk, which are not
 * knowledge gaps.
 */
export function gapKey(question: string): string | null {
  const terms = [...termsOf(question)].filter((term) => !SMALL_TALK.has(term));
  return terms.length > 0 ? terms.sort().join(' ').slice(0, 300) : null;
}

function toGapDto(doc: UnansweredRecord | (UnansweredRecord & { _id: Types.ObjectId })): GapDto {
  return {
    id: doc._id.toString(),
    question: doc.question,
    count: doc.count,
    lastConfidence: doc.lastConfidence,
    firstAskedAt: doc.firstAskedAt.toISOString(),
    lastAskedAt: doc.lastAskedAt.toISOString(),
    status: doc.status === 'resolved' ? 'resolved' : 'open',
    resolvedAt: doc.resolvedAt ? doc.resolvedAt.toISOString() : null,
    sourceId: doc.sourceId ? doc.sourceId.toString() : null,
  };
}

/** A question as the gap log and analytics count it: lowercase, punctuation and extra spaces removed. */
export function normalizeQuestion(question: string): string {
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

  /** Counts a low-confidence question; a resolved one asked again and still unanswered opens again. */
  async record(
    organizationId: Types.ObjectId,
    chatbotId: Types.ObjectId,
    question: string,
    confidence: number,
  ): Promise<void> {
    const normalized = gapKey(question);
    if (!normalized) return;
    await this.gaps.submit({
      key: `${chatbotId.toString()} ${normalized}`,
      organizationId,
      chatbotId,
      normalized,
      question,
      confidence,
      at: new Date(),
    });
  }

  /**
   * The gaps asked in one tick (concurrent turns), or while the batch before was being written: one unordered
   * bulk write, one upsert per gap counting every time it was asked (its last asking's values).
   */
  private readonly gaps = new GroupCommit<GapAsked>(async (asked) => {
    const byKey = new Map<string, { indexes: number[]; first: GapAsked; last: GapAsked }>();
    asked.forEach((item, index) => {
      const group = byKey.get(item.key);
      if (group) {
        group.indexes.push(index);
        group.last = item;
      } else byKey.set(item.key, { indexes: [index], first: item, last: item });
    });
    const groups = [...byKey.values()];
    const outcomes: Array<ItemOutcome<void>> = asked.map(() => succeeded(undefined));
    try {
      // Plain values of the schema's types, every field set on insert: the driver's call, without casting.
      await this.models.Unanswered.collection.bulkWrite(
        groups.map(({ indexes, first, last }) => ({
          updateOne: {
            filter: { chatbotId: first.chatbotId, normalized: first.normalized },
            update: {
              $inc: { count: indexes.length },
              $set: {
                lastAskedAt: last.at,
                lastConfidence: last.confidence,
                question: last.question.slice(0, 1000),
                status: 'open',
                resolvedAt: null,
              },
              $setOnInsert: { organizationId: first.organizationId, firstAskedAt: first.at, sourceId: null },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      // A bulk write that names no refused write (a lost connection) made none known: all of them fail.
      const failed = writeErrorsOf(error);
      if (!failed) throw error;
      for (const write of failed) {
        for (const index of groups[write.index]?.indexes ?? []) outcomes[index] = { ok: false, error };
      }
    }
    return outcomes;
  });

  /** The bot's gaps, most repeated first. */
  async list(chatbotId: Types.ObjectId, status: 'open' | 'resolved' | 'all', page: number, perPage: number) {
    const filter = status === 'all' ? { chatbotId } : { chatbotId, status };
    const { items, total } = await findPage(
      this.models.Unanswered.find(filter).sort({ count: -1, lastAskedAt: -1, _id: -1 }),
      this.models.Unanswered.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map(toGapDto), total };
  }

  async get(chatbotId: Types.ObjectId, id: string): Promise<GapDto> {
    const doc = Types.ObjectId.isValid(id) ? await this.models.Unanswered.findOne({ _id: id, chatbotId }) : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No question ${id} in this chatbot's gap log` });
    return toGapDto(doc);
  }

  /** Marks a gap resolved, with the source that answers it when there is one. */
  async resolve(chatbotId: Types.ObjectId, id: string, sourceId: string | null = null): Promise<GapDto> {
    await this.get(chatbotId, id);
    const doc = await this.models.Unanswered.findOneAndUpdate(
      { _id: id, chatbotId },
      {
        $set: {
          status: 'resolved',
          resolvedAt: new Date(),
          ...(sourceId ? { sourceId: new Types.ObjectId(sourceId) } : {}),
        },
      },
      { returnDocument: 'after' },
    );
    if (!doc) throw new AppError('NotFoundError', { message: `No question ${id} in this chatbot's gap log` });
    return toGapDto(doc);
  }
}
