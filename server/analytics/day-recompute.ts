/**
 * The reconciliation: days whose update stopped halfway (their mark left raised past a lease) recomputed from the
 * raw records. Each of the day's documents is replaced (only if no update landed in it meanwhile), then the facts
 * of the day's records are made what was counted, and the mark is cleared only if nothing touched the day since.
 */
import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { addToUpdates, type Contribution, type DayUpdate } from './contribution.js';
import type { RecordSource, RollupSettings } from './rollup-inputs.js';
import {
  ignoreDuplicateKey,
  messagesByConversation,
  questionText,
  type Entries,
  type FactDoc,
  type RollupWriter,
} from './rollup-writer.js';

/** Recomputes the days whose update stopped halfway (see the file's header). */
export class DayRecompute {
  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly writer: RollupWriter,
    private readonly settings: RollupSettings,
  ) {}

  /** Recomputes, from the raw records, every day whose update stopped halfway more than a lease ago. */
  async reconcile(now = Date.now()): Promise<number> {
    const marks = await this.models.AnalyticsMark.find({
      pending: { $ne: 0 },
      touchedAt: { $lt: new Date(now - this.settings.leaseMs) },
    }).lean();
    for (const mark of marks) await this.recomputeDay(mark);
    // Marks lowered to zero are left by live changes; a raise racing this delete upserts its mark again.
    await this.models.AnalyticsMark.deleteMany({
      pending: 0,
      touchedAt: { $lt: new Date(now - this.settings.leaseMs) },
    });
    return marks.length;
  }

  /**
   * Recomputes one day of a bot from its raw records: the day's documents (each written only if no update landed
   * in it meanwhile) and the facts of that day's records, once every document was written. The flag is removed
   * only if nothing touched the day during the recomputation; otherwise it stays for the next pass.
   */
  private async recomputeDay(mark: {
    key: string;
    chatbotId: Types.ObjectId;
    organizationId: Types.ObjectId;
    day: Date;
    pending: number;
    touchedAt: Date;
  }): Promise<void> {
    const day = mark.day.toISOString().slice(0, 10);
    const docs = await this.models.AnalyticsDay.find({ chatbotId: mark.chatbotId, day: mark.day }, 'key rev').lean<
      Array<{ key: string; rev: number }>
    >();
    const { conversations: started, messages } = await this.records.recordsOfBot(mark.chatbotId, {
      from: mark.day,
      to: new Date(mark.day.getTime() + DAY_MS),
    });
    const conversationsById = new Map(started.map((conversation) => [conversation._id.toString(), conversation]));
    const missing = [...new Set(messages.map((message) => message.conversationId.toString()))].filter(
      (id) => !conversationsById.has(id),
    );
    for (const conversation of await this.records.conversationsByIds(missing.map((id) => new Types.ObjectId(id)))) {
      conversationsById.set(conversation._id.toString(), conversation);
    }
    const byId = new Map(messages.map((message) => [message._id.toString(), message]));
    const questions = messages.flatMap((message) =>
      message.replyTo && !byId.has(message.replyTo.toString()) ? [message.replyTo] : [],
    );
    for (const question of await this.records.messagesByIds(questions)) byId.set(question._id.toString(), question);
    const questionOf = questionText(byId);

    const messagesOf = messagesByConversation(messages);
    const startedIds = new Set(started.map((conversation) => conversation._id.toString()));
    const entriesOf = new Map<string, Entries>();
    for (const [id, conversation] of conversationsById) {
      const entries = this.writer.entriesOf(conversation, messagesOf.get(id) ?? [], questionOf);
      // A conversation counts on the day it started: of one started before, only its messages are of this day.
      if (!startedIds.has(id)) delete entries.c;
      entriesOf.set(id, entries);
    }
    const updates = new Map<string, DayUpdate>();
    for (const list of entriesOf.values()) for (const entry of Object.values(list)) addToUpdates(updates, entry, 1);
    // Every document of the day, stored or recomputed: the unsharded one from before has nothing recomputed (its
    // figures are now in the shards) and goes, as does a shard nothing falls in any more.
    const prefix = `${mark.chatbotId.toString()}:`;
    const revs = new Map(docs.map((doc) => [doc.key, doc.rev]));
    const keys = new Set([...revs.keys(), ...[...updates.keys()].map((doc) => prefix + doc)]);
    const written = await Promise.all(
      [...keys].map((key) => this.replaceDayDoc(mark, key, revs.get(key), updates.get(key.slice(prefix.length)))),
    );
    // An update landed in one of them meanwhile: the day stays flagged and is recomputed again.
    if (!written.every(Boolean)) return;

    // The facts of the day's records become what was just counted; entries of the day no longer there go.
    const facts = await this.models.AnalyticsFact.find({ chatbotId: mark.chatbotId }).lean<FactDoc[]>();
    const touched = new Set(entriesOf.keys());
    for (const fact of facts) {
      if (Object.values(fact.e).some((entry) => entry.d === day)) touched.add(fact._id.toString());
    }
    const factsById = new Map(facts.map((fact) => [fact._id.toString(), fact]));
    for (const conversationId of touched) {
      const stored = factsById.get(conversationId)?.e ?? {};
      const fresh = entriesOf.get(conversationId) ?? {};
      const $set: Record<string, Contribution> = {};
      const $unset: Record<string, ''> = {};
      for (const [key, entry] of Object.entries(stored)) if (entry.d === day && !fresh[key]) $unset[`e.${key}`] = '';
      for (const [key, entry] of Object.entries(fresh)) $set[`e.${key}`] = entry;
      await this.models.AnalyticsFact.updateOne(
        { _id: new Types.ObjectId(conversationId) },
        {
          ...(Object.keys($set).length > 0 ? { $set } : {}),
          ...(Object.keys($unset).length > 0 ? { $unset } : {}),
          $inc: { v: 1 },
          $setOnInsert: { chatbotId: mark.chatbotId },
        },
        { upsert: true },
      ).catch(ignoreDuplicateKey);
    }
    const cleared = await this.models.AnalyticsMark.deleteOne({
      key: mark.key,
      pending: mark.pending,
      touchedAt: mark.touchedAt,
    });
    // Something updated the day meanwhile: keep it flagged, so a quiet pass recomputes it again.
    if (cleared.deletedCount === 0)
      await this.models.AnalyticsMark.updateOne({ key: mark.key }, { $inc: { pending: 1 } });
  }

  /**
   * Writes one document of a recomputed day: its recomputed figures, or (none) its deletion; only if its `rev` is
   * still the one read before the recomputation (`undefined`: only if it still does not exist). Whether it was.
   */
  private async replaceDayDoc(
    mark: { chatbotId: Types.ObjectId; organizationId: Types.ObjectId; day: Date },
    key: string,
    rev: number | undefined,
    update: DayUpdate | undefined,
  ): Promise<boolean> {
    const days = this.models.AnalyticsDay.collection;
    if (!update) return rev === undefined || (await days.deleteOne({ key, rev })).deletedCount > 0;
    const fields: Record<string, unknown> = {};
    for (const source of [update.inc, update.min, update.set]) {
      for (const [path, value] of Object.entries(source)) setPath(fields, path, value);
    }
    const replaced = await days
      .replaceOne(
        { key, rev: rev ?? 0 },
        {
          key,
          organizationId: mark.organizationId,
          chatbotId: mark.chatbotId,
          day: mark.day,
          rev: (rev ?? 0) + 1,
          s: {},
          t: {},
          dt: {},
          wqs: {},
          wgaps: {},
          si: {},
          ...fields,
        },
        { upsert: rev === undefined },
      )
      .catch((error: unknown) => (isDuplicateKeyError(error) ? null : Promise.reject(error)));
    return Boolean(replaced && replaced.matchedCount + replaced.upsertedCount > 0);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}
