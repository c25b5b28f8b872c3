import { signal, type Signal } from '@preact/signals';
import type { MessageDto, SourceRef } from '../../../shared/schemas/chat.js';

/** `sending` until the server stored it; answers are `pending` until the first token, then `streaming`. */
export type MessageStatus = 'sending' | 'pending' | 'streaming' | 'complete' | 'failed';

/**
 * One message on screen. Fields that change while an answer streams are signals, so only the
 * bubble that reads them re-renders.
 */
export interface ChatMessage {
  /** Stable for the message's whole life: the client id for the visitor's, the server id for answers. */
  key: string;
  role: 'user' | 'assistant';
  /** The stored id, once the server has it. */
  id: string | null;
  clientMessageId: string | null;
  text: Signal<string>;
  status: Signal<MessageStatus>;
  sources: Signal<SourceRef[]>;
  feedback: Signal<'up' | 'down' | null>;
  error: Signal<string | null>;
  /** What the widget adds to the answer in its own words (see `MessageDto.notice`). */
  notice: Signal<MessageDto['notice']>;
  /** The action this answer waits for the visitor to approve or decline. */
  action: Signal<MessageDto['pendingAction']>;
  /** The next chunk `seq` this answer expects; lower ones are repeats. */
  nextSeq: number;
  /** A chunk was missed (e.g. offline): stop appending and wait for the complete answer. */
  gap: boolean;
}

export function createMessage(fields: {
  key: string;
  role: 'user' | 'assistant';
  id?: string | null;
  clientMessageId?: string | null;
  text?: string;
  status: MessageStatus;
}): ChatMessage {
  return {
    key: fields.key,
    role: fields.role,
    id: fields.id ?? null,
    clientMessageId: fields.clientMessageId ?? null,
    text: signal(fields.text ?? ''),
    status: signal(fields.status),
    sources: signal([]),
    feedback: signal(null),
    error: signal(null),
    notice: signal(null),
    action: signal(undefined),
    nextSeq: 0,
    gap: false,
  };
}

/** A stored message as the widget shows it. */
export function messageFromDto(dto: MessageDto): ChatMessage {
  const message = createMessage({
    key: dto.role === 'user' ? (dto.clientMessageId ?? dto.id) : dto.id,
    role: dto.role,
    id: dto.id,
    clientMessageId: dto.clientMessageId,
    text: dto.content,
    status: dto.status,
  });
  message.sources.value = dto.sources;
  message.feedback.value = dto.feedback;
  message.notice.value = dto.notice;
  message.action.value = dto.pendingAction;
  return message;
}
