import type { Types } from 'mongoose';
import type { SourceRef } from '../../shared/schemas/chat.js';
import { AppError } from '../errors/app-error.js';
import { toAppError } from '../http/error-handler.js';
import { isoTime } from '../lib/iso-time.js';
import type { DomainEventInput, EventCitation } from '../events/domain-events.js';
import { ModelUnavailableError, type BotModels, type PromptMessage } from '../llm/model-client.js';
import type { ChatDeps } from './chat.service.js';
import { storedResult } from './chat-result.js';
import { toMessageDto } from '../conversations/conversations.service.js';
import type { ChatEvent, EndUser } from './chat.types.js';
import { runToolTurn, type PendingAction, type StoredToolCall } from '../actions/tool-turn.js';
import { buildPrompt, estimateTokens, knowledgeOnlyAnswer, offlineAnswer } from './prompt.js';
import { withModelVerdict } from '../knowledge/confidence.js';
import type { Retrieval, RetrievedPassage } from './retriever.js';
import type { ActionRecord } from '../actions/action.model.js';
import { LOW_CONFIDENCE } from './unanswered.service.js';
import { settingsOfBot } from '../widget-settings/widget-settings.service.js';
import type { StoredMessage } from '../conversations/message.model.js';
import type { ChatbotRecord } from '../chatbots/chatbot.model.js';
import type { StoredConversation } from '../conversations/conversation.model.js';

const ASK_FOR_EMAIL =
  "\n\nI couldn't find this in what I know. If you leave your email address here, someone from the team will follow up.";

export interface AnswerContext {
  bot: ChatbotRecord;
  conversation: StoredConversation;
  userMessage: StoredMessage;
  answer: StoredMessage;
  question: string;
  /** The client's own history of the exchange, when it sent one; otherwise the stored conversation's is used. */
  history?: PromptMessage[] | null;
  /** When the turn started (`Date.now()`), for the answer's timings. */
  startedAt: number;
  /** True when the question is the conversation's first message: there is no history to read. */
  firstMessage?: boolean;
  /** The knowledge for the question, when the turn started looking it up early (`startKnowledge`). */
  knowledge?: PendingKnowledge;
}

/** The bot's models, the passages for a question and the bot's actions, looked up together. */
interface Knowledge {
  botModels: BotModels;
  retrieval: Retrieval;
  actions: ActionRecord[];
}

/** Knowledge being looked up for `question`. */
export interface PendingKnowledge {
  question: string;
  result: Promise<Knowledge>;
}

/**
 * Starts resolving the bot's models, retrieving for `question` and reading the bot's actions, all at once.
 * The turn may end before it awaits the result (a refusal), so a failure here is only thrown to the awaiter.
 */
export function startKnowledge(
  deps: ChatDeps,
  bot: ChatbotRecord,
  question: string,
  signal: AbortSignal,
): PendingKnowledge {
  const result = (async (): Promise<Knowledge> => {
    const botModels = await deps.modelResolver.forChatbot(bot);
    const [retrieval, actions] = await Promise.all([
      deps.retriever.retrieve(
        { chatbotId: botOfTurn(bot).chatbotId, organizationId: botOfTurn(bot).organizationId },
        question,
        { limit: 5, signal, embeddings: botModels.embeddings },
      ),
      botModels.chat && deps.actions ? deps.actions.forChatbot(bot._id) : [],
    ]);
    return { botModels, retrieval, actions };
  })();
  result.catch(() => undefined);
  return { question, result };
}

const HISTORY_MESSAGES = 20;
/** Model calls one chat turn may make while it runs actions. */
export const CHAT_TOOL_STEPS = 5;

/** The identified visitor of a conversation (from a verified userToken), if any. */
export function verifiedUser(conversation: StoredConversation): EndUser | null {
  const user = conversation.user;
  if (!user?.sub) return null;
  return { sub: user.sub, ...(user.email ? { email: user.email } : {}), ...(user.name ? { name: user.name } : {}) };
}

/** What a turn reads of its bot: the ids as strings, the prompt's settings and the lead capture setting. */
interface BotOfTurn {
  organizationId: string;
  chatbotId: string;
  instructions: string;
  name: string;
  temperature: number;
  maxTokens: number;
  /** The bot invites a visitor whose question went unanswered to leave an email (owner setting). */
  asksForEmail: boolean;
}

/**
 * Each bot document's fields a turn reads, read once (each read of a mongoose document's field goes through its
 * getters): a turn's bot is the cache's shared, unchanged document, and a bot's ids never change.
 */
const turnFieldsOfBot = new WeakMap<ChatbotRecord, BotOfTurn>();

function botOfTurn(bot: ChatbotRecord): BotOfTurn {
  let fields = turnFieldsOfBot.get(bot);
  if (!fields) {
    const settings = bot.modelSettings;
    fields = {
      organizationId: bot.organizationId.toString(),
      chatbotId: bot._id.toString(),
      instructions: bot.instructions ?? '',
      name: bot.name,
      temperature: settings?.temperature ?? 0.3,
      maxTokens: settings?.maxTokens ?? 800,
      asksForEmail: settingsOfBot(bot).leadCapture.askEmailWhenUnanswered,
    };
    turnFieldsOfBot.set(bot, fields);
  }
  return fields;
}

/** Stored on an answer whose client went away before it finished. */
export const CANCELLED_ANSWER = 'cancelled by the client';

function toSourceRefs(passages: RetrievedPassage[]): SourceRef[] {
  return passages.map((p) => ({
    sourceId: p.sourceId,
    title: p.title,
    url: p.url,
    excerpt: p.excerpt,
    score: Number(p.score.toFixed(4)),
  }));
}

/** A model that failed for good: counted, logged and announced (`integration.failed`), the operator's view of it. */
async function noteModelFailure(
  deps: ChatDeps,
  ctx: AnswerContext,
  botModels: BotModels | null,
  error: ModelUnavailableError,
): Promise<void> {
  const organizationId = ctx.bot.organizationId.toString();
  const announced = deps.events.notifyDurably('integration.failed', {
    organizationId,
    chatbotId: ctx.bot._id.toString(),
    integrationId: botModels?.connection?.integrationId ?? null,
    provider: botModels?.connection?.provider ?? 'unknown',
    model: botModels?.chat?.model ?? 'unknown',
    reason: error.message,
    attempts: error.retries + 1,
  });
  await announced.catch((recordError: unknown) =>
    deps.logger.error({ err: recordError }, 'could not record integration.failed'),
  );
  await deps.usage.recordModelFailure(organizationId).catch(() => undefined);
  await deps.usage.recordModelRetries(organizationId, error.retries).catch(() => undefined);
  deps.logger.warn(
    { err: error.cause ?? error, conversationId: ctx.conversation._id.toString() },
    'model provider failed',
  );
}

/**
 * Tells subscribers (analytics) that records of a turn changed; the turn goes on if one of them fails. See
 * `ConversationsService.changed` for the options (records as just written, another change following shortly).
 */
export async function announceChange(
  deps: Pick<ChatDeps, 'conversations' | 'logger'>,
  message: StoredMessage,
  records: Array<{ _id: Types.ObjectId; createdAt: Date }>,
  options?: Parameters<ChatDeps['conversations']['changed']>[2],
): Promise<void> {
  await deps.conversations.changed(message, records, options).catch((error: unknown) => {
    deps.logger.error({ err: error }, 'could not announce a conversation change');
  });
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
  const { usage, conversations, logger } = deps;
  const bot = botOfTurn(ctx.bot);
  const { organizationId } = bot;
  const conversationId = ctx.conversation._id.toString();
  let text = '';
  let seq = 0;
  let firstTokenMs: number | null = null;
  let botModels: BotModels | null = null;
  // What has streamed is written about once a second, so a crash keeps it and other nodes see the answer alive.
  const checkpoint = deps.leases.keepAlive(ctx.answer._id, ctx.answer.leaseId ?? '', () => text);
  try {
    // The stored history is read while the knowledge is looked up (a model is almost always configured).
    const history = ctx.history
      ? Promise.resolve(ctx.history)
      : ctx.firstMessage
        ? Promise.resolve([])
        : conversations.history(ctx.conversation._id, [ctx.userMessage._id, ctx.answer._id], HISTORY_MESSAGES);
    history.catch(() => undefined);
    const pending =
      ctx.knowledge?.question === ctx.question ? ctx.knowledge : startKnowledge(deps, ctx.bot, ctx.question, signal);
    const knowledge = await pending.result;
    botModels = knowledge.botModels;
    const { retrieval, actions } = knowledge;
    const sources = toSourceRefs(retrieval.passages);

    let finishReason = 'stop';
    let tokens = { prompt: 0, completion: 0 };
    let modelName: string | null = null;
    let toolCalls: StoredToolCall[] = [];
    let pendingAction: PendingAction | null = null;
    if (botModels.chat && deps.actions && actions.length > 0) {
      // The bot has actions: the model may call them, so the answer is whole before it is sent.
      modelName = botModels.chat.model;
      const turn = runToolTurn({
        model: botModels.chat,
        prompt: buildPrompt({
          instructions: bot.instructions,
          botName: bot.name,
          passages: retrieval.passages,
          history: await history,
          question: ctx.question,
        }),
        actions,
        runner: deps.actions.runner,
        user: verifiedUser(ctx.conversation),
        conversationId,
        turnId: ctx.answer._id.toString(),
        source: 'chat',
        temperature: bot.temperature,
        maxTokens: bot.maxTokens,
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
      if (text) firstTokenMs = Date.now() - ctx.startedAt;
      for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
    } else if (!botModels.chat) {
      text = offlineAnswer(retrieval.passages);
      finishReason = 'no_model';
      // Sent in a few pieces so every door's streaming path is exercised the same way.
      for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
    } else {
      modelName = botModels.chat.model;
      const prompt = buildPrompt({
        instructions: bot.instructions,
        botName: bot.name,
        passages: retrieval.passages,
        history: await history,
        question: ctx.question,
      });
      try {
        for await (const part of botModels.chat.stream(prompt, {
          temperature: bot.temperature,
          maxTokens: bot.maxTokens,
          signal,
        })) {
          if (part.type === 'delta') {
            firstTokenMs ??= Date.now() - ctx.startedAt;
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
      } catch (error) {
        // A visitor whose model is down or out of quota still gets what the knowledge says, cited; the
        // widget words the note itself. Operators see the failure in logs and usage; API clients get the 503.
        const fallBack =
          error instanceof ModelUnavailableError &&
          text === '' &&
          ctx.conversation.channel === 'widget' &&
          retrieval.passages.length > 0;
        if (!fallBack) throw error;
        await noteModelFailure(deps, ctx, botModels, error);
        text = knowledgeOnlyAnswer(retrieval.passages);
        finishReason = 'model_unavailable';
        for (const piece of text.match(/[\s\S]{1,80}/g) ?? []) yield { type: 'chunk', seq: seq++, text: piece };
      }
    }
    // The model read the passages: its refusal, or an answer grounded in them, outweighs retrieval's guess.
    const confidence =
      finishReason === 'model_unavailable' || finishReason === 'no_model'
        ? retrieval.confidence
        : withModelVerdict(retrieval.confidence, text, retrieval.passages);

    const askedForEmail = confidence < LOW_CONFIDENCE && bot.asksForEmail;
    // The widget asks in its own words (the message's `notice`); other doors get the sentence.
    if (askedForEmail && ctx.conversation.channel !== 'widget') {
      text += ASK_FOR_EMAIL;
      yield { type: 'chunk', seq: seq++, text: ASK_FOR_EMAIL };
    }
    await checkpoint.stop();
    const stored = conversations.answers.completeAnswer(ctx.answer, {
      askedForEmail,
      content: text,
      sources,
      confidence,
      model: modelName,
      finishReason,
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
      firstTokenMs,
      durationMs: Date.now() - ctx.startedAt,
      toolCalls,
      pendingAction,
    });
    await Promise.all([
      stored,
      conversations.touchAnswered(ctx.conversation._id, text),
      usage.increment(organizationId, { promptTokens: tokens.prompt, completionTokens: tokens.completion }),
    ]);
    // The answer as just saved, its question and its conversation as stored: analytics reads none of them back
    // (the conversation only when no deletion of it may have started since; see `mayBeDeletedSince`). Not
    // waited for: the records are stored, and analytics holds the change briefly to apply it with other turns'
    // (a crash meanwhile leaves it to the next start's `recover`; a report on this server applies it first).
    void announceChange(deps, ctx.answer, [ctx.answer], {
      asWritten: true,
      context: [ctx.userMessage, ctx.conversation],
      lingering: true,
    });
    // Stored for webhooks before `done` acknowledges the answer. A turn paused for the visitor's approval
    // completes when it is answered (see continue-turn.ts), once.
    if (!pendingAction) await deps.events.notifyDurably('answer.completed', answerCompleted(ctx));
    const message = toMessageDto(ctx.answer);
    yield { type: 'done', result: storedResult(ctx.answer, ctx.userMessage, message), message };
  } catch (error) {
    const cancelled = signal.aborted;
    const reason = cancelled ? CANCELLED_ANSWER : error instanceof Error ? error.message : 'failed';
    await checkpoint.stop();
    // Only while the answer is still this turn's: a retry may have taken over an answer it thought abandoned.
    const marked = await conversations.answers
      .failAnswer(ctx.answer._id, ctx.answer.leaseId, {
        content: text,
        error: reason,
        firstTokenMs,
        durationMs: Date.now() - ctx.startedAt,
      })
      .catch((saveError: unknown) => {
        logger.error({ err: saveError }, 'could not mark an answer as failed');
        return false;
      });
    if (marked) {
      // Stored before the turn reports its error; a failure to store is logged, the turn's error still goes out.
      await deps.events
        .notifyDurably('answer.failed', { ...turnIds(ctx), reason })
        .catch((recordError: unknown) => logger.error({ err: recordError }, 'could not record answer.failed'));
    }
    await announceChange(deps, ctx.answer, [ctx.answer]);
    if (error instanceof ModelUnavailableError) {
      await noteModelFailure(deps, ctx, botModels, error);
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

/** The ids and channel every event of this turn's answer carries. */
function turnIds(ctx: AnswerContext) {
  const { organizationId, chatbotId } = botOfTurn(ctx.bot);
  return {
    organizationId,
    chatbotId,
    conversationId: ctx.conversation._id.toString(),
    messageId: ctx.answer._id.toString(),
    questionMessageId: ctx.userMessage._id.toString(),
    channel: ctx.conversation.channel,
  };
}

/** `answer.completed` for the stored answer; `answered` is false for a gap (too little knowledge matched). */
export function answerCompleted(ctx: AnswerContext): DomainEventInput<'answer.completed'> {
  const { answer } = ctx;
  const confidence = answer.confidence ?? 0;
  return {
    ...turnIds(ctx),
    occurredAt: isoTime(answer.updatedAt),
    questionText: ctx.question,
    text: answer.content ?? '',
    confidence,
    answered: confidence >= LOW_CONFIDENCE,
    citations: citationsOf(answer),
    model: answer.model ?? null,
    usage: { promptTokens: answer.promptTokens ?? 0, completionTokens: answer.completionTokens ?? 0 },
    firstTokenMs: answer.firstTokenMs ?? null,
    durationMs: answer.durationMs ?? 0,
  };
}

/** The sources an answer cites, once each (several passages may come from one page). */
function citationsOf(answer: StoredMessage): EventCitation[] {
  const citations = new Map<string, EventCitation>();
  for (const source of answer.sources ?? []) {
    const citation = { sourceId: source.sourceId ?? '', title: source.title ?? '', url: source.url ?? null };
    citations.set(`${citation.sourceId} ${citation.url ?? ''}`, citation);
  }
  return [...citations.values()];
}
