import { ChatStream } from '../chat-stream.js';
import { ChatOperations } from '../generated/operations.js';
import type { RequestOptions } from '../transport.js';
import type { BotChatRequest, ChatRequest, ChatResult } from '../types.js';
import { newClientMessageId, seg } from './resource.js';

type WithoutStream<T> = Omit<T, 'stream'>;

/**
 * Chat with a bot: one JSON answer (`send`, `sendToChatbot`), or the answer streamed as it is written
 * (`stream`, `streamTo`). A `clientMessageId` is generated when not given, so a retried send is stored once.
 */
export class ChatResource extends ChatOperations {
  /** Sends a message (`chatbot` or `chatbotId` names the bot) and answers the complete reply. */
  override send(body: WithoutStream<ChatRequest>, options?: RequestOptions): Promise<ChatResult> {
    return super.send({ ...body, stream: false }, options);
  }

  /** Sends a message to the bot `chatbot` (id or slug) and answers the complete reply. */
  override sendToChatbot(
    chatbot: string,
    body: WithoutStream<BotChatRequest>,
    options?: RequestOptions,
  ): Promise<ChatResult> {
    return super.sendToChatbot(chatbot, { ...body, stream: false }, options);
  }

  /** @deprecated The same as `sendToChatbot`. */
  sendTo(chatbot: string, body: WithoutStream<BotChatRequest>, options?: RequestOptions): Promise<ChatResult> {
    return this.sendToChatbot(chatbot, body, options);
  }

  /**
   * Streams the reply: `for await (const event of await client.chat.stream({...}))`. A `clientMessageId`
   * is generated when not given, so a retried request never asks the model twice.
   */
  async stream(body: WithoutStream<ChatRequest>, options?: RequestOptions): Promise<ChatStream> {
    return this.openStream('/api/v1/chat', body, options);
  }

  /** Streams the reply of the bot `chatbot` (id or slug). */
  async streamTo(chatbot: string, body: WithoutStream<BotChatRequest>, options?: RequestOptions): Promise<ChatStream> {
    return this.openStream(`/api/v1/chatbots/${seg(chatbot)}/chat`, body, options);
  }

  private async openStream(path: string, body: object, options?: RequestOptions): Promise<ChatStream> {
    const response = await this.transport.stream(
      {
        method: 'POST',
        path,
        body: { clientMessageId: newClientMessageId(), ...body, stream: true },
        noIdempotencyKey: true,
      },
      options,
    );
    return new ChatStream(response);
  }
}
