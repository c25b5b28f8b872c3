import type { ChatResult, MessageDto } from '../../shared/schemas/chat.js';
import type { ConversationChannel } from '../../shared/schemas/conversations.js';
import type { AppError } from '../errors/app-error.js';
import type { PromptMessage } from '../llm/model-client.js';

/** The end user a conversation belongs to, from a verified `userToken`. */
export interface EndUser {
  sub: string;
  name?: string;
  email?: string;
}

/** One turn of the chat flow, whichever door it came through. */
export interface ChatTurn {
  organizationId: string;
  /** The bot's id or slug, within the organization. */
  chatbot: string;
  message: string;
  conversationId?: string | null;
  /** A custom frontend's own id for the end user's conversation. */
  sessionId?: string | null;
  /** The widget's visitor id. */
  visitorId?: string | null;
  clientMessageId?: string | null;
  /** The site owner's signed JWT for the end user (verified by the chat service). */
  userToken?: string | null;
  /** An end user already verified by the door (e.g. at the socket handshake). */
  user?: EndUser | null;
  metadata?: Record<string, string | number | boolean | null>;
  channel: ConversationChannel;
  pageUrl?: string | null;
  /**
   * The earlier turns as the client holds them (the OpenAI-compatible door sends the whole exchange each
   * time): the model sees these instead of the stored conversation's. Oldest first, the question excluded.
   */
  history?: PromptMessage[] | null;
}

/**
 * What the chat flow yields, in order: accepted, chunk*, then done or error (the sources are in the done
 * result). A turn refused before it was accepted yields only the error; the flow itself never throws.
 */
export type ChatEvent =
  | {
      type: 'accepted';
      conversationId: string;
      userMessageId: string;
      assistantMessageId: string;
      /** True when `clientMessageId` matched an earlier turn: its stored answer follows, the model is not called. */
      duplicate: boolean;
      /** Set once 80% of the organization's monthly message quota is used. */
      quotaWarning: string | null;
    }
  | { type: 'chunk'; seq: number; text: string }
  /** An action the model called started or finished (its name and status only, never its secrets). */
  | { type: 'action'; phase: 'started' | 'finished'; name: string; status?: string; durationMs?: number }
  /** `message` is the stored answer as conversations list it, for doors that show messages (the widget). */
  | { type: 'done'; result: ChatResult; message: MessageDto }
  | { type: 'error'; error: AppError; conversationId: string | null; assistantMessageId: string | null };
