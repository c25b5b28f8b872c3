import type { Types } from 'mongoose';
import type { ChatResult, MessageDto } from '../../shared/schemas/chat.js';
import { toMessageDto } from '../conversations/conversations.service.js';
import type { StoredMessage } from '../conversations/message.model.js';

/** The chat result of a stored, complete answer (`dto`: the answer's `toMessageDto`, when the caller has it). */
export function storedResult(
  answer: StoredMessage,
  userMessage: { _id: Types.ObjectId },
  dto: MessageDto = toMessageDto(answer),
): ChatResult {
  const prompt = answer.promptTokens ?? 0;
  const completion = answer.completionTokens ?? 0;
  return {
    response: dto.content,
    conversationId: dto.conversationId,
    messageId: dto.id,
    userMessageId: userMessage._id.toString(),
    sources: dto.sources,
    confidence: dto.confidence ?? 0,
    tokensUsed: { prompt, completion, total: prompt + completion },
    model: answer.model ?? null,
    finishReason: answer.finishReason ?? 'stop',
    ...(answer.pendingAction ? { requiresAction: requiresActionOf(answer.pendingAction) } : {}),
  };
}

function requiresActionOf(pending: Record<string, unknown>): NonNullable<ChatResult['requiresAction']> {
  return {
    token: String(pending.token),
    action: String(pending.name),
    description: String(pending.description ?? ''),
    arguments: pending.arguments ?? null,
  };
}
