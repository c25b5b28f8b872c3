import { Types } from 'mongoose';
import { runToolTurn, type PendingAction, type StoredToolCall } from '../actions/tool-turn.js';
import { AppError } from '../errors/app-error.js';
import { toAppError } from '../http/error-handler.js';
import { toMessageDto } from '../conversations/conversations.service.js';
import type { ChatDeps } from './chat.service.js';
import type { ChatEvent } from './chat.types.js';
import { storedResult } from './chat-result.js';
import { announceChange, answerCompleted, CHAT_TOOL_STEPS, verifiedUser, type AnswerContext } from './answer.js';
import type { MessageRecord } from '../conversations/message.model.js';
import { estimateTokens } from './prompt.js';
import { ModelUnavailableError } from '../llm/model-client.js';

/**
 * Which paused answer a confirmation answers: by its token (REST, channels), or by the answer's id for a widget
 * visitor. A `taker` (a channel's durable reply job) that runs again after being interrupted resumes what it took:
 * the action's stored outcome is reused and the follow-up is written, or replayed when it already was.
 */
export type PausedAnswer =
  | { organizationId: string; token: string; taker?: string }
  | { organizationId: string; chatbotId: string; visitorId: string; messageId: string };

/** How the visitor's answer went: the action's outcome, or that it was declined. */
export interface ConfirmationOutcome {
  action: string;
  status: 'succeeded' | 'failed' | 'refused' | 'declined';
  result: unknown;
  error: string | null;
  messageId: string;
  conversationId: string;
}

/**
 * What a confirmation yields, in order: `confirmed` (the action ran or was declined), the action's started and
 * finished events, the follow-up answer's chunks, then done; or one error (404 when nothing waits).
 */
export type ConfirmEvent = ChatEvent | { type: 'confirmed'; outcome: ConfirmationOutcome };

const NOTHING_WAITS = 'No action is waiting for this token: it was already answered, or never existed';

type Taken = { answer: MessageRecord; pending: PendingAction; approve: boolean; resumed: boolean };

/**
 * Takes the paused answer, once; a widget visitor may only answer an answer of their own conversation. When it
 * was taken already, the same confirmation again (the same token, from the same taker; or the same widget
 * visitor's answer) is its retry: an interrupted one is taken again to be resumed, a complete one is returned to
 * be replayed, one still being written is 503. A retry deciding otherwise than the first answer is 409.
 */
async function takePaused(
  deps: ChatDeps,
  paused: PausedAnswer,
  approve: boolean,
  lease: ReturnType<ChatDeps['leases']['claim']>,
): Promise<Taken | MessageRecord | null> {
  let retake: Parameters<ChatDeps['conversations']['answers']['retakeAction']>[0];
  if ('token' in paused) {
    const decision = { approve, taker: paused.taker ?? null };
    const taken = await deps.conversations.answers.takePendingAction(paused, lease, decision);
    if (taken) return { ...taken, approve, resumed: false };
    retake = { ...paused, taker: paused.taker ?? null };
  } else {
    const chatbotId = new Types.ObjectId(paused.chatbotId);
    const answer = await deps.conversations.answers.answerOfBot(chatbotId, paused.messageId);
    const own =
      answer &&
      (await deps.conversations.visitorConversation(chatbotId, paused.visitorId, answer.conversationId.toString()));
    if (!answer || !own) return null;
    const taken = await deps.conversations.answers.takePendingAction({ chatbotId, messageId: answer._id }, lease, {
      approve,
      taker: null,
    });
    if (taken) return { ...taken, approve, resumed: false };
    retake = { chatbotId, messageId: answer._id };
  }
  // A channel's job retries with the decision it stored; a visitor's retry must repeat theirs.
  const decided = 'token' in paused && paused.taker ? undefined : approve;
  const earlier = await deps.conversations.answers.retakeAction(retake, lease, deps.leases.staleFilter(), decided);
  if (!earlier) return null;
  const { answer, taken: pending, retaken } = earlier;
  if (decided !== undefined && pending.approve !== decided)
    throw new AppError('ConflictError', {
      message: `This confirmation was already answered (${pending.approve ? 'approved' : 'declined'}); it cannot be changed`,
    });
  if (retaken) return { answer, pending, approve: pending.approve, resumed: true };
  if (answer.status === 'complete') return answer;
  throw new AppError('UnavailableError', { message: 'This confirmation is still being answered; try again shortly' });
}

/** The outcome of the confirmed call as stored with the answer, when an interrupted attempt got that far. */
function settledOutcome(answer: AnswerContext['answer'], toolCallId: string) {
  const stored = ((answer.toolCalls ?? []) as StoredToolCall[]).find((call) => call.id === toolCallId);
  if (!stored || stored.status === 'pending') return null;
  return { status: stored.status, result: stored.result, error: stored.error, runId: stored.runId };
}

/**
 * Continues a turn that paused for the visitor's approval: the approved action runs as the conversation's
 * identified visitor (a declined one is never sent), the model reads the outcome and gives its follow-up
 * answer, which replaces the question on the same stored answer. The answer is leased while it is written, so
 * a crash leaves it failed like any interrupted answer, which a `taker`'s retry resumes.
 */
export async function* continueTurn(
  deps: ChatDeps,
  paused: PausedAnswer,
  approve: boolean,
  signal: AbortSignal,
): AsyncGenerator<ConfirmEvent> {
  if (!deps.actions) throw new AppError('NotFoundError', { message: NOTHING_WAITS });
  const startedAt = Date.now();
  const lease = deps.leases.claim();
  const taken = await takePaused(deps, paused, approve, lease);
  if (!taken) throw new AppError('NotFoundError', { message: NOTHING_WAITS });
  if (!('pending' in taken)) {
    // Answered already (or an earlier attempt wrote the follow-up and stopped before handing it on): the stored
    // outcome and follow-up again, nothing run or written.
    const question = taken.replyTo ? await deps.conversations.message(taken.replyTo) : null;
    if (!question) throw new AppError('NotFoundError', { message: 'The question of this answer was deleted' });
    const done = taken.takenAction as PendingAction;
    const settled = settledOutcome(taken, done.toolCallId);
    if (settled) {
      const { runId: _runId, ...result } = settled;
      yield {
        type: 'confirmed',
        outcome: {
          ...result,
          action: done.name,
          messageId: taken._id.toString(),
          conversationId: taken.conversationId.toString(),
        },
      };
    }
    yield { type: 'done', result: storedResult(taken, question), message: toMessageDto(taken) };
    return;
  }
  const { answer, pending } = taken;
  let text = '';
  const checkpoint = deps.leases.keepAlive(answer._id, lease.leaseId, () => text);
  try {
    const ctx = await contextOf(deps, answer, paused.organizationId, startedAt);
    const settled = taken.resumed ? settledOutcome(answer, pending.toolCallId) : null;
    const outcome = settled ?? (yield* resolveAction(deps, ctx, pending, taken.approve, signal));
    const { runId, ...result } = outcome;
    // Stored at once: the transcript shows what was done even if the follow-up answer fails.
    const previous = ((answer.toolCalls ?? []) as StoredToolCall[]).map((call) =>
      call.id === pending.toolCallId ? { ...call, ...result, runId } : call,
    );
    answer.set({ toolCalls: previous });
    await answer.save();
    yield {
      type: 'confirmed',
      outcome: {
        ...result,
        action: pending.name,
        messageId: answer._id.toString(),
        conversationId: answer.conversationId.toString(),
      },
    };

    const botModels = await deps.modelResolver.forChatbot(ctx.bot);
    const toolResult = JSON.stringify({ status: outcome.status, result: outcome.result, error: outcome.error });
    let finishReason = 'stop';
    let tokens = { prompt: 0, completion: 0 };
    let toolCalls = previous;
    let pendingAction: PendingAction | null = null;
    if (botModels.chat) {
      const settings = ctx.bot.modelSettings;
      const turn = runToolTurn({
        model: botModels.chat,
        prompt: [...pending.messages, { role: 'tool', toolCallId: pending.toolCallId, content: toolResult }],
        actions: await deps.actions.forChatbot(ctx.bot._id),
        runner: deps.actions.runner,
        user: verifiedUser(ctx.conversation),
        conversationId: ctx.conversation._id.toString(),
        turnId: answer._id.toString(),
        turnPart: `after:${pending.toolCallId}`,
        source: 'chat',
        temperature: settings?.temperature ?? 0.3,
        maxTokens: settings?.maxTokens ?? 800,
        maxSteps: CHAT_TOOL_STEPS,
        signal,
      });
      let step = await turn.next();
      while (!step.done) {
        yield step.value;
        step = await turn.next();
      }
      ({ text, finishReason, tokens, pending: pendingAction } = step.value);
      toolCalls = [...previous, ...step.value.toolCalls];
      await deps.usage.recordModelRetries(paused.organizationId, step.value.retries);
    } else {
      // The bot's model was removed while it waited: say plainly how the action went.
      text = `${pending.name}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`;
      finishReason = 'no_model';
      tokens = { prompt: 0, completion: estimateTokens(text) };
    }
    let seq = 0;
    for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
    await checkpoint.stop();
    await deps.conversations.answers.completeAnswer(answer, {
      content: text,
      sources: (answer.sources ?? []) as never,
      confidence: answer.confidence ?? 0,
      model: botModels.chat?.model ?? answer.model ?? null,
      finishReason,
      promptTokens: (answer.promptTokens ?? 0) + tokens.prompt,
      completionTokens: (answer.completionTokens ?? 0) + tokens.completion,
      askedForEmail: answer.askedForEmail ?? false,
      firstTokenMs: answer.firstTokenMs ?? null,
      durationMs: (answer.durationMs ?? 0) + (Date.now() - startedAt),
      toolCalls,
      pendingAction,
    });
    await Promise.all([
      deps.conversations.touch(ctx.conversation._id, text, 0),
      deps.usage.increment(paused.organizationId, {
        promptTokens: tokens.prompt,
        completionTokens: tokens.completion,
      }),
    ]);
    await announceChange(deps, answer, [answer]);
    if (!pendingAction) await deps.events.notifyDurably('answer.completed', answerCompleted(ctx));
    yield { type: 'done', result: storedResult(answer, ctx.userMessage), message: toMessageDto(answer) };
  } catch (error) {
    await checkpoint.stop();
    const reason = signal.aborted ? 'cancelled' : error instanceof Error ? error.message : 'failed';
    const marked = await deps.conversations.answers
      .failAnswer(answer._id, lease.leaseId, {
        content: text,
        error: reason,
        firstTokenMs: answer.firstTokenMs ?? null,
        durationMs: Date.now() - startedAt,
      })
      .catch(() => false);
    if (!(error instanceof AppError)) deps.logger.error({ err: error }, 'confirmed chat turn failed');
    if (marked) await announceChange(deps, answer, [answer]);
    yield {
      type: 'error',
      error:
        error instanceof ModelUnavailableError
          ? new AppError('UnavailableError', {
              message: `The language model is unavailable (${error.message}); the action's outcome is kept in the conversation`,
            })
          : toAppError(error),
      conversationId: answer.conversationId.toString(),
      assistantMessageId: answer._id.toString(),
    };
  } finally {
    await checkpoint.stop();
  }
}

async function contextOf(
  deps: ChatDeps,
  answer: AnswerContext['answer'],
  organizationId: string,
  startedAt: number,
): Promise<AnswerContext> {
  const [bot, conversation, userMessage] = await Promise.all([
    deps.chatbots.find(organizationId, answer.chatbotId.toString()),
    deps.conversations.find(organizationId, answer.conversationId.toString()),
    answer.replyTo ? deps.conversations.message(answer.replyTo) : null,
  ]);
  if (!userMessage) throw new AppError('NotFoundError', { message: 'The question of this answer was deleted' });
  return { bot, conversation, userMessage, answer, question: userMessage.content ?? '', startedAt };
}

/** Runs the approved action (with its started / finished events) or records it declined. */
async function* resolveAction(
  deps: ChatDeps,
  ctx: AnswerContext,
  pending: PendingAction,
  approve: boolean,
  signal: AbortSignal,
): AsyncGenerator<
  ChatEvent,
  Omit<ConfirmationOutcome, 'action' | 'messageId' | 'conversationId'> & { runId: string | null }
> {
  const [action] = await deps.actions!.byIds(ctx.bot.organizationId.toString(), [pending.actionId]);
  const conversationId = ctx.conversation._id.toString();
  if (!action) {
    return { status: 'refused', result: null, error: `the action ${pending.name} was deleted`, runId: null };
  }
  if (!approve) {
    const runId = await deps.actions!.runner.recordDeclined({
      action,
      args: pending.arguments,
      source: 'chat',
      conversationId,
      // Keyed like an approved call: a resumed confirmation finds the decline recorded, never records another.
      turnId: ctx.answer._id.toString(),
      callKey: `confirm:${pending.toolCallId}`,
    });
    yield { type: 'action', phase: 'finished', name: action.name, status: 'declined', durationMs: 0 };
    return { status: 'declined', result: null, error: 'declined by the visitor', runId };
  }
  yield { type: 'action', phase: 'started', name: action.name };
  // Keyed by the paused call: a resumed confirmation reuses the stored answer instead of sending it again.
  const run = await deps.actions!.runner.run({
    action,
    args: pending.arguments,
    user: verifiedUser(ctx.conversation),
    source: 'chat',
    conversationId,
    turnId: ctx.answer._id.toString(),
    callKey: `confirm:${pending.toolCallId}`,
    signal,
  });
  yield { type: 'action', phase: 'finished', name: action.name, status: run.status, durationMs: run.durationMs };
  return { status: run.status, result: run.result, error: run.error, runId: run.runId };
}
