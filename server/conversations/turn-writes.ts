import type { Types } from 'mongoose';
import { GroupCommit, succeeded, type ItemOutcome, type SubmitOptions } from '../db/group-commit.js';
import { writeErrorsOf, type WriteError } from '../db/write-errors.js';
import type { ConversationModel } from './conversation.model.js';
import type { MessageModel, StoredMessage } from './message.model.js';

/** A new conversation's upsert on its unique (bot, session) key, as `ConversationsService.open` writes it. */
export interface ConversationUpsert {
  filter: { chatbotId: Types.ObjectId; sessionKey: string };
  update: { $set: Record<string, unknown>; $setOnInsert: Record<string, unknown> };
}

/**
 * The error one item of a failed bulk write fails with: the bulk write's own when its code is the item's (a
 * bulk write's code is its first write error's), else one carrying the item's code and message, so a
 * duplicate key still reads as one (`isDuplicateKeyError`) and nothing else does.
 */
function itemError(bulkError: unknown, write: WriteError): unknown {
  if ((bulkError as { code?: unknown }).code === write.code) return bulkError;
  return Object.assign(new Error(typeof write.errmsg === 'string' ? write.errmsg : 'write failed'), {
    code: write.code,
  });
}

/** One write of a conversation in a tick's bulk write: an upsert (a new conversation) or an update of one by id. */
interface ConversationWrite {
  filter: Record<string, unknown>;
  update: Record<string, unknown>;
  upsert: boolean;
}

/**
 * Writes a tick's conversation writes (new conversations' upserts, counters' updates) in one unordered bulk write;
 * each answers with the id the database gave the record it inserted (null when it inserted none: an update, or an
 * upsert whose key matched a stored conversation), or fails with its own write error. A bulk write that fails
 * without saying which writes failed fails them all.
 */
async function writeConversations(
  Conversation: ConversationModel,
  writes: ConversationWrite[],
): Promise<Array<ItemOutcome<Types.ObjectId | null>>> {
  const ops = writes.map(({ filter, update, upsert }) => ({ updateOne: { filter, update, upsert } }));
  let upserted: Record<number, unknown>;
  const failed = new Map<number, unknown>();
  try {
    upserted = (await Conversation.collection.bulkWrite(ops, { ordered: false })).upsertedIds;
  } catch (error) {
    const writeErrors = writeErrorsOf(error);
    const result = (error as { result?: { upsertedIds?: Record<number, unknown> } }).result;
    if (!writeErrors || !result?.upsertedIds) throw error;
    upserted = result.upsertedIds;
    for (const write of writeErrors) failed.set(write.index, itemError(error, write));
  }
  return writes.map((_, index) =>
    failed.has(index)
      ? { ok: false, error: failed.get(index) }
      : succeeded((upserted[index] as Types.ObjectId | undefined) ?? null),
  );
}

/**
 * Inserts a tick's turns' records (each turn's question and pending answer) in one ordered insert, turn after turn,
 * so each turn's records are stored as its own ordered insert stored them: an insert stops at the first record
 * refused, the turns wholly before it are stored, the turn holding it fails with its error (its records before the
 * refused one stored, those after not), and the turns after it are inserted by the next ordered insert.
 */
async function insertTurns(Message: MessageModel, turns: StoredMessage[][]): Promise<Array<ItemOutcome<void>>> {
  const outcomes: Array<ItemOutcome<void>> = [];
  while (outcomes.length < turns.length) {
    const rest = turns.slice(outcomes.length);
    try {
      await Message.collection.insertMany(rest.flat(), { ordered: true });
      for (let turn = 0; turn < rest.length; turn += 1) outcomes.push(succeeded(undefined));
    } catch (error) {
      const refused = Math.min(...(writeErrorsOf(error)?.map((write) => write.index) ?? [NaN]));
      const total = rest.reduce((sum, records) => sum + records.length, 0);
      // Without a record named as refused, none of the rest is known stored or not: each fails with the error.
      if (!(refused >= 0 && refused < total)) {
        for (let turn = 0; turn < rest.length; turn += 1) outcomes.push({ ok: false, error });
        break;
      }
      let first = 0;
      for (const records of rest) {
        if (refused < first + records.length) {
          outcomes.push({ ok: false, error });
          break;
        }
        outcomes.push(succeeded(undefined));
        first += records.length;
      }
    }
  }
  return outcomes;
}

/**
 * The turn's writes grouped across the turns of a tick (see `GroupCommit`): its new conversation and the
 * conversation's counters in one bulk write, its question and pending answer in one insert. Every turn awaits its
 * own acknowledged write, and a write refused fails its own turn only.
 */
export class TurnWrites {
  private readonly conversations: GroupCommit<ConversationWrite, Types.ObjectId | null>;
  private readonly messages: GroupCommit<StoredMessage[]>;

  constructor(models: { Conversation: ConversationModel; Message: MessageModel }) {
    this.conversations = new GroupCommit((writes) => writeConversations(models.Conversation, writes));
    this.messages = new GroupCommit((turns) => insertTurns(models.Message, turns));
  }

  /** Upserts a conversation; resolves with the id of the record it inserted, null when its key matched one stored. */
  upsertConversation({ filter, update }: ConversationUpsert): Promise<Types.ObjectId | null> {
    return this.conversations.submit({ filter, update, upsert: true });
  }

  /**
   * Updates a conversation by id (its update holds plain values of the schema's types, `updatedAt` included);
   * `options` may let it wait for another write to ride on (see `SubmitOptions`).
   */
  async updateConversation(
    _id: Types.ObjectId,
    update: Record<string, unknown>,
    options: SubmitOptions = {},
  ): Promise<void> {
    await this.conversations.submit({ filter: { _id }, update, upsert: false }, options);
  }

  /** Inserts one turn's records in order (as one ordered insert of them alone would). */
  insertMessages(records: StoredMessage[]): Promise<void> {
    return this.messages.submit(records);
  }
}
