import { ChatStream } from '../chat-stream.js';
import type { RequestOptions } from '../transport.js';
import type { BotChatRequest, ChatRequest, ChatResult } from '../types.js';
import { Resource, seg } from './resource.js';

type WithoutStream<T> = Omit<T, 'stream'>;

/** A client-chosen id that makes a streamed send safe to retry (the same id answers the stored answer). */
const newClientMessageId = () => `sdk:${crypto.randomUUID()}`;

/** Chat with a bot: one JSON answer, or the answer streamed as it is written. */
export class ChatResource extends Resource {
  /**
   * Sends a message (`chatbot` or `chatbotId` names the bot) and answers the complete reply. A
   * `clientMessageId` is generated when not given, so a retry after a failed answer reuses the message.
   */
  send(body: WithoutStream<ChatRequest>, options?: RequestOptions): Promise<ChatResult> {
    return this.data(
      { method: 'POST', path: '/api/v1/chat', body: { clientMessageId: newClientMessageId(), ...body, stream: false } },
      options,
    );
  }

  /** Sends a message to the bot `chatbot` (id or slug). */
  sendTo(chatbot: string, body: WithoutStream<BotChatRequest>, options?: RequestOptions): Promise<ChatResult> {
    return this.data(
      {
        method: 'POST',
        path: `/api/v1/chatbots/${seg(chatbot)}/chat`,
        body: { clientMessageId: newClientMessageId(), ...body, stream: false },
      },
      options,
    );
  }

  /**
   * Streams the reply: `for await (const event of await client.chat.stream({...}))`. A `clientMessageId`
   * is generated when not given, so a retried request never asks the model twice.
   */
  async stream(body: WithoutStream<ChatRequest>, options?: RequestOptions): Promise<ChatStream> {
    const response = await this.transport.stream(
      {
        method: 'POST',
        path: '/api/v1/chat',
        body: { clientMessageId: newClientMessageId(), ...body, stream: true },
        noIdempotencyKey: true,
      },
      options,
    );
    return new ChatStream(response);
  }

  /** Streams the reply of the bot `chatbot` (id or slug). */
  async streamTo(chatbot: string, body: WithoutStream<BotChatRequest>, options?: RequestOptions): Promise<ChatStream> {
    const response = await this.transport.stream(
      {
        method: 'POST',
        path: `/api/v1/chatbots/${seg(chatbot)}/chat`,
        body: { clientMessageId: newClientMessageId(), ...body, stream: true },
        noIdempotencyKey: true,
      },
      options,
    );
    return new ChatStream(response);
  }
}
