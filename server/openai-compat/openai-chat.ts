import type { ChatResult } from '../../shared/schemas/chat.js';
import type { OpenAiChatRequest, OpenAiMessage } from '../../shared/schemas/openai.js';
import type { StreamFormat } from '../chat/chat.routes.js';
import type { ChatTurn } from '../chat/chat.types.js';
import type { PromptMessage } from '../llm/model-client.js';
import { openAiError, openAiErrorBody } from './openai-errors.js';

type FinishReason = 'stop' | 'length' | 'content_filter';

/** The text of a message's content; only text parts are read, other kinds are refused by their path. */
function textOf(message: OpenAiMessage, index: number): string {
  const content = message.content;
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      const param = `messages.${index}.content.${partIndex}`;
      throw openAiError('ValidationError', `${param}: "${part.type}" parts are not supported; send text parts only`, {
        param,
        code: 'unsupported_content',
      });
    })
    .join('\n');
}

/**
 * The chat turn a chat-completion request asks for: the last message (a user's) is the question, the
 * user and assistant messages before it are the history. System and developer messages are left out:
 * the bot's own instructions govern it. Tool and function results have no place in a bot's answer.
 */
export function turnFromRequest(body: OpenAiChatRequest, organizationId: string, chatbotId: string): ChatTurn {
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw openAiError('ValidationError', `n: a chatbot gives one answer per request; send n: 1 or leave it out`, {
      param: 'n',
      code: 'unsupported_value',
    });
  }
  const last = body.messages.length - 1;
  const question = body.messages[last]!;
  const text = textOf(question, last).trim();
  if (question.role !== 'user' || !text) {
    throw openAiError(
      'ValidationError',
      `messages.${last}: the last message must be a user message with text (the question); it is a ${question.role} message${text ? '' : ' without text'}`,
      { param: `messages.${last}` },
    );
  }
  const history: PromptMessage[] = [];
  body.messages.slice(0, last).forEach((message, index) => {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    const content = textOf(message, index);
    if (content) history.push({ role: message.role, content });
  });
  return {
    organizationId,
    chatbot: chatbotId,
    message: text,
    conversationId: body.conversation_id ?? null,
    sessionId: body.user ?? null,
    clientMessageId: body.client_message_id ?? null,
    userToken: body.user_token ?? null,
    metadata: body.metadata ?? undefined,
    channel: 'api',
    // A request that carries only the question lets a continued conversation's stored history speak.
    history: history.length > 0 ? history : null,
  };
}

function finishReason(result: ChatResult): FinishReason {
  return result.finishReason === 'length' || result.finishReason === 'content_filter' ? result.finishReason : 'stop';
}

const usageOf = (result: ChatResult) => ({
  prompt_tokens: result.tokensUsed.prompt,
  completion_tokens: result.tokensUsed.completion,
  total_tokens: result.tokensUsed.total,
});

/** Wisp's part of the answer: its conversation, citations and confidence. */
function wispOf(result: ChatResult) {
  return {
    conversation_id: result.conversationId,
    message_id: result.messageId,
    user_message_id: result.userMessageId,
    sources: result.sources.map((source) => ({
      source_id: source.sourceId,
      title: source.title,
      url: source.url,
      excerpt: source.excerpt,
      score: source.score,
    })),
    confidence: result.confidence,
    model: result.model,
    finish_reason: result.finishReason,
    // The turn paused for the caller's approval: continued with `POST /api/v1/chat/confirm` and the same key.
    requires_action: result.requiresAction
      ? {
          token: result.requiresAction.token,
          action: result.requiresAction.action,
          description: result.requiresAction.description,
          arguments: result.requiresAction.arguments,
        }
      : null,
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const completionId = (assistantMessageId: string) => `chatcmpl-${assistantMessageId}`;

/** The `chat.completion` object of a JSON answer; `model` is the name the client asked for. */
export function completionOf(result: ChatResult, model: string) {
  return {
    id: completionId(result.messageId),
    object: 'chat.completion' as const,
    created: nowSeconds(),
    model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: result.response, refusal: null },
        logprobs: null,
        finish_reason: finishReason(result),
      },
    ],
    usage: usageOf(result),
    wisp: wispOf(result),
  };
}

/**
 * A streamed answer in OpenAI's chunk format: a first chunk with the assistant role, one per piece of
 * text, a last one with `finish_reason`, `usage` and `wisp`; with `stream_options.include_usage`, usage
 * comes instead in one more chunk with no choices, as OpenAI sends it.
 */
export function chunkStream(model: string, includeUsage: boolean): StreamFormat {
  let id = '';
  const created = nowSeconds();
  const chunk = (delta: Record<string, string>, finish: FinishReason | null, extra: Record<string, unknown> = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  return {
    event: (event) => {
      if (event.type === 'accepted') {
        id = completionId(event.assistantMessageId);
        return [chunk({ role: 'assistant', content: '' }, null)];
      }
      if (event.type === 'chunk') return [chunk({ content: event.text }, null)];
      // Action progress has no place in OpenAI's chunk format.
      if (event.type === 'action') return [];
      const { result } = event;
      if (!includeUsage) return [chunk({}, finishReason(result), { usage: usageOf(result), wisp: wispOf(result) })];
      return [
        chunk({}, finishReason(result), { wisp: wispOf(result) }),
        { ...chunk({}, null), choices: [], usage: usageOf(result) },
      ];
    },
    error: openAiErrorBody,
  };
}
