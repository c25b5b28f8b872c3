import { batch, signal } from '@preact/signals';
import type { MessageDto } from '../../../shared/schemas/chat.js';
import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';
import { createMessage, messageFromDto, type ChatMessage } from './chat-message.js';

/** `refused`: the server will not talk to this page (origin not allowed, bot gone); retrying will not help. */
export type ConnectionState = 'idle' | 'connecting' | 'online' | 'offline' | 'refused';

/** Everything the chat UI shows, as signals; changed only through the functions below. */
export function createChatStore(config: WidgetConfig) {
  const messages = signal<ChatMessage[]>([]);
  const connection = signal<ConnectionState>('idle');
  const open = signal(false);
  const settings = signal(config);
  /** A short message for the visitor (rate limit, refusal), shown above the composer. */
  const notice = signal<string | null>(null);
  /** What the live region reads out: each complete answer, once. */
  const announcement = signal('');
  /** The composer's text, kept while the panel is closed. */
  const draft = signal('');

  const byId = (id: string) => messages.value.find((m) => m.id === id);

  const append = (message: ChatMessage) => {
    messages.value = [...messages.value, message];
  };

  /** Puts an answer right after the visitor message it replies to (other tabs may have added more). */
  const insertAfter = (message: ChatMessage, previousKey: string) => {
    const list = [...messages.value];
    const at = list.findIndex((m) => m.key === previousKey);
    list.splice(at < 0 ? list.length : at + 1, 0, message);
    messages.value = list;
  };

  /** Copies a stored message onto the one on screen; a pending answer keeps what has streamed so far. */
  const update = (target: ChatMessage, dto: MessageDto) =>
    batch(() => {
      target.id = dto.id;
      if (dto.status === 'pending' && target.role === 'assistant') return;
      target.text.value = dto.content;
      target.status.value = dto.status;
      target.sources.value = dto.sources;
      target.feedback.value = dto.feedback;
      target.notice.value = dto.notice;
      target.action.value = dto.pendingAction;
      target.error.value = null;
    });

  return {
    messages,
    connection,
    open,
    settings,
    notice,
    announcement,
    draft,
    byId,

    addOutgoing(text: string, clientMessageId: string): ChatMessage {
      const message = createMessage({ key: clientMessageId, role: 'user', clientMessageId, text, status: 'sending' });
      append(message);
      return message;
    },

    /** The answer's bubble once the server accepted the visitor's message; reused on retry. */
    expectAnswer(assistantMessageId: string, userKey: string): ChatMessage {
      const existing = byId(assistantMessageId);
      if (existing) {
        if (existing.status.value === 'failed') {
          batch(() => {
            existing.text.value = '';
            existing.status.value = 'pending';
            existing.error.value = null;
          });
          existing.nextSeq = 0;
          existing.gap = false;
        }
        return existing;
      }
      const answer = createMessage({
        key: assistantMessageId,
        role: 'assistant',
        id: assistantMessageId,
        status: 'pending',
      });
      insertAfter(answer, userKey);
      return answer;
    },

    /** A streamed piece: appended only when it is the next one; repeats are dropped, a skip waits for `done`. */
    applyChunk(messageId: string, seq: number, text: string): boolean {
      const message = byId(messageId);
      if (!message) return false;
      const status = message.status.value;
      if (status === 'complete' || status === 'failed' || seq < message.nextSeq) return true;
      if (seq > message.nextSeq) message.gap = true;
      if (message.gap) return true;
      message.nextSeq = seq + 1;
      batch(() => {
        message.text.value += text;
        message.status.value = 'streaming';
      });
      return true;
    },

    /** The complete answer replaces whatever streamed; false when this tab never saw the question. */
    applyDone(dto: MessageDto): boolean {
      const message = byId(dto.id);
      if (!message) return false;
      const wasComplete = message.status.value === 'complete';
      update(message, dto);
      if (!wasComplete) announcement.value = dto.content;
      return true;
    },

    /** A failed answer; a null error shows the widget's own words (server text is for operators). */
    applyError(messageId: string | null, error: string | null) {
      const message = messageId ? byId(messageId) : undefined;
      if (!message) return;
      batch(() => {
        message.status.value = 'failed';
        message.error.value = error;
      });
    },

    /** Merges stored messages in: known ones are updated in place, new ones appended, nothing twice. */
    mergeHistory(dtos: MessageDto[]) {
      batch(() => {
        for (const dto of dtos) {
          const known =
            byId(dto.id) ??
            (dto.clientMessageId ? messages.value.find((m) => m.clientMessageId === dto.clientMessageId) : undefined);
          if (known) update(known, dto);
          else append(messageFromDto(dto));
        }
      });
    },

    /** The last stored message before anything unsettled: history after it fills every gap. */
    historyCursor(): string | null {
      let cursor: string | null = null;
      for (const message of messages.value) {
        if (!message.id || message.status.value !== 'complete') break;
        cursor = message.id;
      }
      return cursor;
    },

    reset() {
      batch(() => {
        messages.value = [];
        notice.value = null;
      });
    },
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;
