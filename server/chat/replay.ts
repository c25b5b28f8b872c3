import { toMessageDto, type ConversationsService } from '../conversations/conversations.service.js';
import type { MessageRecord } from '../conversations/message.model.js';
import { AppError } from '../errors/app-error.js';
import type { AnswerLeases } from './answer-lease.js';
import { storedResult } from './chat-result.js';
import type { ChatEvent } from './chat.types.js';

/** What answering a repeated send of a message reads. */
export interface ReplayDeps {
  conversations: Pick<ConversationsService, 'answers' | 'message'>;
  leases: Pick<AnswerLeases, 'isStale' | 'secondsUntilStale'>;
}

/** A retry often follows its original by moments (a double click, a client timeout): wait that long for it. */
const REPLAY_WAIT_MS = 2_000;
/** The longest Retry-After for a message still being answered. */
const STILL_ANSWERING_RETRY_S = 5;

/**
 * A retried send: yields the stored answer and returns true; returns false when the earlier
 * answer failed or its writer is gone, so the caller answers again at once. One still being
 * written is waited for briefly, then refused with a 409 and a short Retry-After.
 */
export async function* replay(
  deps: ReplayDeps,
  userMessage: MessageRecord,
  signal: AbortSignal,
): AsyncGenerator<ChatEvent, boolean> {
  const answer = await settledAnswer(deps, userMessage, signal);
  if (!answer || answer.status === 'failed' || deps.leases.isStale(answer)) return false;
  if (answer.status === 'pending') throw stillAnswering(deps, userMessage, answer);
  yield* replayed(userMessage, answer);
  return true;
}

/**
 * A send that lost the retry of its message to a racing send of the same message follows that send's answer
 * rather than asking the model again: it gets the answer when it completes within the wait, the answer's
 * failure (a 503 naming it, to send again) when it failed, and otherwise a 409 naming the answer to wait for.
 */
export async function* follow(
  deps: ReplayDeps,
  userMessage: MessageRecord,
  signal: AbortSignal,
): AsyncGenerator<ChatEvent> {
  const answer = await settledAnswer(deps, userMessage, signal);
  if (!answer || answer.status === 'pending') throw stillAnswering(deps, userMessage, answer);
  if (answer.status === 'complete') return yield* replayed(userMessage, answer);
  const ids = { conversationId: userMessage.conversationId.toString(), assistantMessageId: answer._id.toString() };
  yield { type: 'accepted', ...ids, userMessageId: userMessage._id.toString(), duplicate: true, quotaWarning: null };
  // The stored reason may hold the provider's own words, which never reach a client.
  const error = new AppError('UnavailableError', {
    message: 'The answer to this message failed; your message was kept, so send it again shortly',
    details: ids,
  });
  yield { type: 'error', error, ...ids };
}

/** The 409 for a message whose answer is still being written, naming that answer when it exists. */
export function stillAnswering(deps: ReplayDeps, userMessage: MessageRecord, answer: MessageRecord | null): AppError {
  const retryAfter = Math.min(
    STILL_ANSWERING_RETRY_S,
    answer ? deps.leases.secondsUntilStale(answer) : STILL_ANSWERING_RETRY_S,
  );
  return new AppError('ConflictError', {
    message: `This message is still being answered; its answer will appear in the conversation, or send it again in ${retryAfter} s`,
    details: {
      retryAfter,
      conversationId: userMessage.conversationId.toString(),
      assistantMessageId: answer ? answer._id.toString() : null,
    },
    headers: { 'Retry-After': String(retryAfter) },
  });
}

/** The answer to a user message, once it is no longer being written or after a short wait for it. */
async function settledAnswer(
  deps: ReplayDeps,
  userMessage: MessageRecord,
  signal: AbortSignal,
): Promise<MessageRecord | null> {
  const { conversations, leases } = deps;
  const deadline = Date.now() + REPLAY_WAIT_MS;
  let answer = await conversations.answers.answerTo(userMessage._id);
  while (answer?.status === 'pending' && !leases.isStale(answer) && Date.now() < deadline && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await conversations.message(answer._id);
  }
  return answer;
}

/** A stored, complete answer, as a replayed turn. */
async function* replayed(userMessage: MessageRecord, answer: MessageRecord): AsyncGenerator<ChatEvent> {
  yield {
    type: 'accepted',
    conversationId: userMessage.conversationId.toString(),
    userMessageId: userMessage._id.toString(),
    assistantMessageId: answer._id.toString(),
    duplicate: true,
    quotaWarning: null,
  };
  yield { type: 'done', result: storedResult(answer, userMessage), message: toMessageDto(answer) };
}
