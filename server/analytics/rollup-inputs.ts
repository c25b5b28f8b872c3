/**
 * What the rollups are given by the rest of the server: the bots they roll up, how the conversations and messages
 * they roll up are read (through their owner), their timing settings, and where they log. Analytics owns only its
 * own collections; everything else reaches it through these.
 */
import type { Types } from 'mongoose';
import type { RawConversation, RawMessage } from './contribution.js';

export interface RollupBot {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
}

/** How analytics reads the conversations and messages it rolls up: through their owner, by id or by bot. */
export interface RecordSource {
  conversationsByIds(ids: Types.ObjectId[]): Promise<RawConversation[]>;
  messagesByIds(ids: Types.ObjectId[]): Promise<RawMessage[]>;
  /** A bot's conversations and messages (those created in [from, to) when given): a scan, for the background. */
  recordsOfBot(
    chatbotId: Types.ObjectId,
    created?: { from: Date; to: Date },
  ): Promise<{ conversations: RawConversation[]; messages: RawMessage[] }>;
  /** Every bot's conversations and messages last changed in [from, to]: a scan, for the background. */
  recordsUpdatedBetween(from: Date, to: Date): Promise<{ conversations: RawConversation[]; messages: RawMessage[] }>;
  /**
   * While a change of the conversation is being announced (called synchronously from the announcement): the
   * records announced exactly as just stored, by id, which need not be read back; and whether the writer
   * announces another change of the conversation shortly (a turn's answer after its question); whether nobody
   * waits for this change (a finished answer), so it may be held briefly to be applied with others.
   */
  announced?(
    conversationId: string,
  ): { records: Map<string, unknown>; followUp: boolean; lingering?: boolean } | undefined;
  /**
   * Whether a conversation announced as written (as it was then) may have been deleted since; when false, it
   * is not read back. Absent: always read back.
   */
  mayBeDeletedSince?(conversation: RawConversation & { updatedAt?: Date | null }): boolean;
}

export interface RollupSettings {
  /** An update of a day left unfinished for this long is taken as stopped halfway, and the day recomputed. */
  leaseMs: number;
  /** How often the background worker looks for such days. */
  pollMs: number;
  /** Shards each day's figures are written to: `DAY_SHARDS` unless a test asks for another count. */
  dayShards?: number;
}

export interface Logger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}
