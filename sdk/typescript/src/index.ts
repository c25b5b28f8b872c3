export { Wisp } from './client.js';
export type { ClientOptions, RequestOptions } from './transport.js';
export { WispError, WispApiError, WispConnectionError, WispTimeoutError } from './errors.js';
export { PagedList, type Page } from './pagination.js';
export { ChatStream, type ChatStreamEvent } from './chat-stream.js';
export { SseParser, readSse, type SseEvent } from './sse.js';
export { verifyWebhook, signWebhook, type WebhookHeaders } from './webhooks.js';
export type * from './types.js';
export type { paths } from './generated/schema.js';
