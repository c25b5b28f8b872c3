import type { SourceRef } from '../../shared/schemas/chat.js';
import type { ChatbotModel } from '../chatbots/chatbot.model.js';
import type { ConversationModel } from '../conversations/conversation.model.js';
import type { MessageModel } from '../conversations/message.model.js';
import { AppError } from '../errors/app-error.js';
import { toAppError } from '../http/error-handler.js';
import { ModelUnavailableError, type PromptMessage } from '../llm/model-client.js';
import type { ChatDeps } from './chat.service.js';
import { storedResult } from './chat-result.js';
import { toMessageDto } from '../conversations/conversations.service.js';
import type { ChatEvent, EndUser } from './chat.types.js';
import { runToolTurn, type PendingAction, type StoredToolCall } from '../actions/tool-turn.js';
import { buildPrompt, estimateTokens, offlineAnswer } from './prompt.js';
import type { RetrievedPassage } from './retriever.js';
import { LOW_CONFIDENCE } from './unanswered.service.js';
import { settingsOfBot } from '../widget-settings/widget-settings.service.js';
import type { MessageRecord } from '../conversations/message.model.js';
import type { ChatbotRecord } from '../chatbots/chatbot.model.js';
import type { ConversationRecord } from '../conversations/conversation.model.js';

const ASK_FOR_EMAIL =
  "\n\nI couldn't find this in what I know. If you leave your email address here, someone from the team will follow up.";

export interface AnswerContext {
  bot: ChatbotRecord;
  conversation: ConversationRecord;
  userMessage: MessageRecord;
  answer: MessageRecord;
  question: string;
}

const HISTORY_MESSAGES = 20;
/** Model calls one chat turn may make while it runs actions. */
const CHAT_TOOL_STEPS = 5;

/** The identified visitor of a conversation (from a verified userToken), if any. */
function verifiedUser(conversation: ConversationRecord): EndUser | null {
  const user = conversation.user;
  if (!user?.sub) return null;
  return { sub: user.sub, ...(user.email ? { email: user.email } : {}), ...(user.name ? { name: user.name } : {}) };
}

function toSourceRefs(passages: RetrievedPassage[]): SourceRef[] {
  return passages.map((p) => ({
    sourceId: p.sourceId,
    title: p.title,
    url: p.url,
    excerpt: p.excerpt,
    score: Number(p.score.toFixed(4)),
  }));
}

async function recentHistory(
  models: { Chatbot: ChatbotModel; Conversation: ConversationModel; Message: MessageModel },
  ctx: AnswerContext,
): Promise<PromptMessage[]> {
  const docs = await models.Message.find({
    conversationId: ctx.conversation._id,
    status: 'complete',
    _id: { $nin: [ctx.userMessage._id, ctx.answer._id] },
  })
    .sort({ createdAt: -1, _id: -1 })
    .limit(HISTORY_MESSAGES)
    .lean();
  return docs
    .reverse()
    .map((doc) => ({ role: doc.role === 'assistant' ? 'assistant' : 'user', content: doc.content ?? '' }));
}

/**
 * Retrieves, asks the model (or answers from retrieval alone when none is configured),
 * streams the answer and stores it: complete, or failed with whatever had arrived.
 */
export async function* generateAnswer(
  deps: ChatDeps,
  ctx: AnswerContext,
  signal: AbortSignal,
): AsyncGenerator<ChatEvent> {
  const { models, usage, conversations, unanswered, logger } = deps;
  const organizationId = ctx.bot.organizationId.toString();
  const conversationId = ctx.conversation._id.toString();
  let text = '';
  let seq = 0;
  // What has streamed is written about once a second, so a crash keeps it and other nodes see the answer alive.
  const checkpoint = deps.leases.keepAlive(ctx.answer._id, ctx.answer.leaseId ?? '', () => text);
  try {
    const botModels = await deps.modelResolver.forChatbot(ctx.bot);
    const retrieval = await deps.retriever.retrieve(
      { chatbotId: ctx.bot._id.toString(), organizationId },
      ctx.question,
      { limit: 5, signal, embeddings: botModels.embeddings },
    );
    const sources = toSourceRefs(retrieval.passages);

    let finishReason = 'stop';
    let tokens = { prompt: 0, completion: 0 };
    let modelName: string | null = null;
    let toolCalls: StoredToolCall[] = [];
    let pendingAction: PendingAction | null = null;
    const actions = botModels.chat && deps.actions ? await deps.actions.forChatbot(ctx.bot._id) : [];
    if (botModels.chat && deps.actions && actions.length > 0) {
      // The bot has actions: the model may call them, so the answer is whole before it is sent.
      modelName = botModels.chat.model;
      const settings = ctx.bot.modelSettings;
      const turn = runToolTurn({
        model: botModels.chat,
        prompt: buildPrompt({
          instructions: ctx.bot.instructions ?? '',
          botName: ctx.bot.name,
          passages: retrieval.passages,
          history: await recentHistory(models, ctx),
          question: ctx.question,
        }),
        actions,
        runner: deps.actions.runner,
        user: verifiedUser(ctx.conversation),
        conversationId,
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
      ({ text, finishReason, tokens, toolCalls, pending: pendingAction } = step.value);
      await usage.recordModelRetries(organizationId, step.value.retries);
      for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
    } else if (!botModels.chat) {
      text = offlineAnswer(retrieval.passages);
      finishReason = 'no_model';
      // Sent in a few pieces so every door's streaming path is exercised the same way.
      for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
    } else {
      modelName = botModels.chat.model;
      const prompt = buildPrompt({
        instructions: ctx.bot.instructions ?? '',
        botName: ctx.bot.name,
        passages: retrieval.passages,
        history: await recentHistory(models, ctx),
        question: ctx.question,
      });
      const settings = ctx.bot.modelSettings;
      for await (const part of botModels.chat.stream(prompt, {
        temperature: settings?.temperature ?? 0.3,
        maxTokens: settings?.maxTokens ?? 800,
        signal,
      })) {
        if (part.type === 'delta') {
          text += part.text;
          checkpoint.grew();
          yield { type: 'chunk', seq: seq++, text: part.text };
        } else {
          finishReason = part.finishReason;
          tokens = part.usage ?? {
            prompt: estimateTokens(prompt.map((m) => m.content).join('\n')),
            completion: estimateTokens(text),
          };
          await usage.recordModelRetries(organizationId, part.retries);
        }
      }
    }

    const askedForEmail =
      retrieval.confidence < LOW_CONFIDENCE && settingsOfBot(ctx.bot).leadCapture.askEmailWhenUnanswered;
    if (askedForEmail) {
      text += ASK_FOR_EMAIL;
      yield { type: 'chunk', seq: seq++, text: ASK_FOR_EMAIL };
    }
    await checkpoint.stop();
    ctx.answer.set({
      askedForEmail,
      content: text,
      status: 'complete',
      sources,
      confidence: retrieval.confidence,
      model: modelName,
      finishReason,
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
      toolCalls,
      pendingAction,
    });
    await Promise.all([
      ctx.answer.save(),
      conversations.touch(ctx.conversation._id, text, 1),
      usage.increment(organizationId, { promptTokens: tokens.prompt, completionTokens: tokens.completion }),
    ]);
    if (retrieval.confidence < LOW_CONFIDENCE) {
      await unanswered
        .record(ctx.bot.organizationId, ctx.bot._id, ctx.question, retrieval.confidence)
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'could not record an unanswered question');
        });
    }
    yield { type: 'done', result: storedResult(ctx.answer, ctx.userMessage), message: toMessageDto(ctx.answer) };
  } catch (error) {
    const cancelled = signal.aborted;
    const reason = cancelled ? 'cancelled by the client' : error instanceof Error ? error.message : 'failed';
    await checkpoint.stop();
    // Only while the answer is still this turn's: a retry may have taken over an answer it thought abandoned.
    await models.Message.updateOne(
      { _id: ctx.answer._id, leaseId: ctx.answer.leaseId },
      { $set: { status: 'failed', content: text, error: reason } },
    ).catch((saveError: unknown) => {
      logger.error({ err: saveError }, 'could not mark an answer as failed');
    });
    if (error instanceof ModelUnavailableError) {
      await usage.recordModelFailure(organizationId).catch(() => undefined);
      await usage.recordModelRetries(organizationId, error.retries).catch(() => undefined);
      logger.warn({ err: error.cause ?? error, conversationId }, 'model provider failed');
    } else if (!cancelled && !(error instanceof AppError)) {
      logger.error({ err: error, conversationId }, 'chat turn failed');
    }
    if (cancelled) return;
    yield {
      type: 'error',
      error:
        error instanceof AppError
          ? error
          : error instanceof ModelUnavailableError
            ? new AppError('UnavailableError', {
                message: error.refused
                  ? `The language model is unavailable: ${error.message}. An admin must point the chatbot's model connection (baseUrl) at a public address; your message was kept`
                  : `The language model is unavailable (${error.message}); your message was kept, so retry shortly`,
                details: { retries: error.retries, ...(error.refused ? { field: 'baseUrl' } : {}) },
              })
            : toAppError(error),
      conversationId,
      assistantMessageId: ctx.answer._id.toString(),
    };
  } finally {
    await checkpoint.stop();
  }
}
