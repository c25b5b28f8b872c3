/**
 * Rolling up history: every record of bots never rolled up (at start, in the background) or of the bots named,
 * read once per bot. Conversations without a fact are inserted in bulk, a chunk at a time, and their days updated
 * once per chunk; those already counted go the entry-by-entry way of a live change. A clean stop ends it between
 * chunks.
 */
import type { AnalyticsModels } from './analytics.model.js';
import { addToUpdates, type DayUpdate, type RawConversation, type RawMessage } from './contribution.js';
import type { Logger, RecordSource, RollupBot } from './rollup-inputs.js';
import { ignoreDuplicateKey, messagesByConversation, questionText, type RollupWriter } from './rollup-writer.js';

/** Rolls up the history of bots (see the file's header). */
export class Backfill {
  /** Set by `stop`: a backfill under way stops between chunks (it starts over at the next start). */
  private stopping = false;

  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly writer: RollupWriter,
    private readonly logger: Logger,
    private readonly allBots: () => Promise<RollupBot[]>,
  ) {}

  /** The rollups are stopping cleanly (see `stopping`). */
  stop(): void {
    this.stopping = true;
  }

  /**
   * Rolls up every record of the bots (all bots never rolled up when none are named) not already counted,
   * reading their raw records once: conversations without any fact are inserted in bulk and their days
   * updated once each; the others go through the same difference as a live change.
   */
  async backfill(chatbotIds?: string[]): Promise<void> {
    const built = new Set(
      (await this.models.AnalyticsBuild.find({ builtAt: { $ne: null } }, 'chatbotId').lean()).map((build) =>
        build.chatbotId.toString(),
      ),
    );
    const bots = (await this.allBots()).filter((bot) =>
      chatbotIds ? chatbotIds.includes(bot._id.toString()) : !built.has(bot._id.toString()),
    );
    for (const bot of bots) {
      if (this.stopping) return;
      const started = performance.now();
      const { conversations, messages } = await this.records.recordsOfBot(bot._id);
      const counted = await this.backfillRecords(bot, conversations, messages);
      if (this.stopping) return;
      await this.models.AnalyticsBuild.updateOne(
        { chatbotId: bot._id },
        { $set: { builtAt: new Date() } },
        { upsert: true },
      ).catch(ignoreDuplicateKey);
      if (counted > 0) {
        this.logger.info(
          { chatbotId: bot._id.toString(), conversations: counted, ms: Math.round(performance.now() - started) },
          'analytics: rolled up earlier history',
        );
      }
    }
  }

  private async backfillRecords(
    bot: RollupBot,
    conversations: RawConversation[],
    messages: RawMessage[],
  ): Promise<number> {
    const byId = new Map(messages.map((message) => [message._id.toString(), message]));
    const questionOf = questionText(byId);
    const messagesOf = messagesByConversation(messages);
    const existing = new Set(
      (await this.models.AnalyticsFact.find({ chatbotId: bot._id }, '_id').lean()).map((fact) => fact._id.toString()),
    );
    const fresh = conversations.filter((conversation) => !existing.has(conversation._id.toString()));
    const known = conversations.filter((conversation) => existing.has(conversation._id.toString()));
    const owner = { organizationId: bot.organizationId, chatbotId: bot._id };
    const CHUNK = 2_000;
    for (let at = 0; at < fresh.length && !this.stopping; at += CHUNK) {
      const chunk = fresh.slice(at, at + CHUNK);
      const facts = chunk.map((conversation) => {
        const e = this.writer.entriesOf(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
        return { _id: conversation._id, chatbotId: bot._id, v: 1, e };
      });
      const days = new Set(facts.flatMap((fact) => Object.values(fact.e).map((entry) => entry.d)));
      await this.writer.raise(owner, [...days]);
      // Inserted only where no fact exists yet: a live change may have got there first.
      const result = await this.models.AnalyticsFact.collection.bulkWrite(
        facts.map((fact) => ({
          updateOne: {
            filter: { _id: fact._id },
            update: { $setOnInsert: { chatbotId: fact.chatbotId, v: fact.v, e: fact.e } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      const inserted = new Set(Object.keys(result.upsertedIds ?? {}).map(Number));
      const updates = new Map<string, DayUpdate>();
      facts.forEach((fact, index) => {
        if (!inserted.has(index)) return known.push(chunk[index]!);
        for (const entry of Object.values(fact.e)) addToUpdates(updates, entry, 1);
      });
      await this.writer.writeDays(owner, updates);
      await this.writer.lower(bot._id, [...days]);
    }
    for (const conversation of known) {
      if (this.stopping) break;
      await this.writer.applyRecords(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
    }
    return conversations.length;
  }
}
