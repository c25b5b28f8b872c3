import { WispApiError } from './errors.js';
import { readSse } from './sse.js';
import type { ChatResult } from './types.js';

/** What a streamed chat yields: text as it arrives, then the whole answer once. */
export type ChatStreamEvent = { type: 'chunk'; text: string } | { type: 'done'; result: ChatResult };

interface StreamLine {
  chunk?: string;
  done?: boolean;
  error?: { name: string; message: string; details?: unknown };
}

/**
 * A streamed answer: iterate it for `chunk` events and the final `done` (a failure mid-stream throws a
 * `WispApiError`), or `await stream.finalResult()`. Leaving the loop early closes the connection.
 */
export class ChatStream implements AsyncIterable<ChatStreamEvent> {
  /** The conversation the answer belongs to, known before the first chunk. */
  readonly conversationId: string | null;
  /** The complete answer, once the `done` event has been read. */
  result: ChatResult | null = null;
  private consumed = false;

  constructor(private readonly response: Response) {
    this.conversationId = response.headers.get('wisp-conversation-id');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChatStreamEvent> {
    if (this.consumed) throw new TypeError('Wisp: a chat stream can be read once');
    this.consumed = true;
    if (!this.response.body) return;
    for await (const event of readSse(this.response.body)) {
      if (event.data === '[DONE]') return;
      const line = JSON.parse(event.data) as StreamLine;
      if (line.error) {
        throw new WispApiError({
          name: line.error.name,
          message: line.error.message,
          details: line.error.details ?? null,
          requestId: this.response.headers.get('x-request-id'),
        });
      }
      if (typeof line.chunk === 'string') yield { type: 'chunk', text: line.chunk };
      else if (line.done) {
        const { done: _done, ...result } = line as StreamLine & ChatResult;
        this.result = result as ChatResult;
        yield { type: 'done', result: this.result };
      }
    }
  }

  /** Reads the stream to its end and answers the complete result. */
  async finalResult(): Promise<ChatResult> {
    for await (const _event of this) {
      // Each event is read only to reach the end.
    }
    if (!this.result) throw new WispApiError({ name: 'InternalError', message: 'The stream ended without an answer' });
    return this.result;
  }
}
