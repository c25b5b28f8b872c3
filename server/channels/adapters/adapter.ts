import type { IncomingHttpHeaders } from 'node:http';
import type { ChannelType } from '../../../shared/schemas/channels.js';
import type { PlatformHttp } from '../platform-http.js';

/** An inbound delivery as the platform sent it: the raw bytes are what signatures cover. */
export interface InboundRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: unknown;
}

/** One end-user message a delivery carried. */
export interface InboundMessage {
  /** The platform's id of the event; the same id delivered again is answered once. */
  eventKey: string;
  text: string;
  userId: string;
  userName: string | null;
  /** The platform chat or thread: one conversation each. */
  threadKey: string;
  /** Where the reply goes, in the platform's terms. */
  replyTo: Record<string, string>;
  syncReply?: boolean;
}

/** An end user's rating of a delivered answer, where the platform has one (Slack reactions, Telegram buttons). */
export interface InboundFeedback {
  /** The platform's id of the delivered answer, as `send` returned it. */
  deliveredRef: string;
  rating: 'up' | 'down';
  /** The platform's id of the rating itself, where it expects an answer to it (a Telegram callback query). */
  platformRef?: string;
}

/**
 * An end user's answer to an action an answer paused for (an Approve / Decline button, a reply in the thread, a
 * signed `confirm` message). It names the paused answer by what the platform gives back: the delivered message
 * carrying the buttons, the thread, or (generic webhook) the confirmation token itself.
 */
export interface InboundConfirm {
  approve: boolean;
  /** The platform user who answered: only the visitor who asked may answer. */
  userId: string;
  /** The delivered message the buttons were on (`send`'s returned id). */
  deliveredRef?: string;
  /** The thread the paused answer was delivered in (a reply in the thread). */
  threadKey?: string;
  /** The confirmation token, where the platform is Wisp's own client (generic webhook). */
  token?: string;
  /** Where the follow-up answer goes; the paused answer's own reply target when absent. */
  replyTo?: Record<string, string>;
  /** The platform's id of the press, where it expects an answer to it (a Telegram callback query). */
  platformRef?: string;
  syncReply?: boolean;
  /** What the delivery is when nothing waits in that thread (a reply that merely says "approve"). */
  otherwise?: InboundMessage;
}

/**
 * How an Approve / Decline was taken: `taken` (the turn goes on), `answered` (it was already answered: nothing
 * more is done), `notAsker` (only the visitor who asked may answer), `nothing` (nothing waits there).
 * `question` is the paused answer it named, where one was found.
 */
export interface ConfirmVerdict {
  kind: 'taken' | 'answered' | 'notAsker' | 'nothing';
  question: {
    /** The delivered question (`send`'s returned id), when it was delivered. */
    deliveredRef: string | null;
    text: string;
    /** The platform user who asked. */
    askerId: string;
  } | null;
  /** For `answered`: how it was answered, where known. */
  approved?: boolean | null;
}

/** What a verified delivery asks for: answering messages, recording feedback, or a response of its own (a handshake). */
export type InboundOutcome =
  | { kind: 'messages'; messages: InboundMessage[] }
  | { kind: 'feedback'; feedback: InboundFeedback }
  | { kind: 'confirm'; confirm: InboundConfirm }
  | { kind: 'respond'; status: number; body: unknown };

/** A channel's settings with its credentials opened, for the adapter only. */
export interface OpenChannel {
  id: string;
  credentials: Record<string, string>;
  /** The secret Wisp chose for inbound deliveries, when the platform lets it choose (Telegram). */
  inboundSecret: string | null;
  callbackUrl: string | null;
}

/** What Wisp sends back: the stored answer and the ids that go with it. */
export interface OutboundReply {
  text: string;
  eventKey: string;
  threadKey: string;
  conversationId: string;
  messageId: string;
  /**
   * The action the answer paused for: the platform shows Approve / Decline (or how to answer). The token is
   * only handed to the generic webhook's callback; other platforms name the message instead.
   */
  pendingAction?: PendingActionReply | null;
}

export interface PendingActionReply {
  action: string;
  description: string;
  arguments: unknown;
  token: string;
}

/**
 * One messaging platform, following its public API and webhook rules. Adapters only translate: the chat
 * turn, storage, answering each event once, and retries are the channels service's and the reply queue's.
 */
export interface ChannelAdapter {
  type: ChannelType;
  /** Checks the credentials with the platform and registers Wisp's inbound URL where the platform allows it. */
  connect(channel: OpenChannel, http: PlatformHttp, inboundUrl: string): Promise<void>;
  /** Unregisters Wisp where it registered itself (best effort, the channel is going away). */
  release?(channel: OpenChannel, http: PlatformHttp): Promise<void>;
  /** Verifies a delivery's signature and reads it; throws an `UnauthorizedError` AppError when it is not genuine. */
  receive(request: InboundRequest, channel: OpenChannel): InboundOutcome;
  /** Answers the platform's subscription check (`GET` on the inbound URL), or throws. */
  challenge?(query: Record<string, unknown>, channel: OpenChannel): string;
  /** Shows that an answer is being written (best effort). */
  typing?(channel: OpenChannel, http: PlatformHttp, replyTo: Record<string, string>): Promise<void>;
  /** Tells the platform a rating was taken, where it waits for that (best effort). */
  feedbackTaken?(channel: OpenChannel, http: PlatformHttp, feedback: InboundFeedback): Promise<void>;
  /** Tells the platform, and the user who answered, how an Approve / Decline (a press or a reply) was taken. */
  confirmTaken?(
    channel: OpenChannel,
    http: PlatformHttp,
    confirm: InboundConfirm,
    verdict: ConfirmVerdict,
  ): Promise<void>;
  /** Delivers an answer; returns the platform's id of the sent message where feedback can refer to it. */
  send(
    channel: OpenChannel,
    http: PlatformHttp,
    replyTo: Record<string, string>,
    reply: OutboundReply,
  ): Promise<string | void>;
}
