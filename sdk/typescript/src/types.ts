import type { BodyOf, DataOf, ItemOf, QueryOf } from './route-types.js';

// Types of requests and answers, derived from the generated OpenAPI types so they follow the API. Every
// model of the API is exported under the name the other SDKs give it (generated/models.ts); the names
// below are this SDK's own, kept for earlier versions (`Lead` is a list's item here, `LeadDetail` the
// whole lead).

export type * from './generated/models.js';
export type { BodyOf, DataOf, ItemOf, QueryOf } from './route-types.js';

export type CreateChatbot = BodyOf<'/api/v1/chatbots', 'post'>;
export type UpdateChatbot = BodyOf<'/api/v1/chatbots/{id}', 'patch'>;
export type CreateApiKey = BodyOf<'/api/v1/api-keys', 'post'>;
export type CreateIntegration = BodyOf<'/api/v1/integrations', 'post'>;
export type UpdateIntegration = BodyOf<'/api/v1/integrations/{id}', 'patch'>;
export type ChatRequest = BodyOf<'/api/v1/chat', 'post'>;
export type BotChatRequest = BodyOf<'/api/v1/chatbots/{id}/chat', 'post'>;
export type ChatResult = DataOf<'/api/v1/chat', 'post'>;
export type ConversationListQuery = QueryOf<'/api/v1/conversations', 'get'>;
export type Feedback = BodyOf<'/api/v1/messages/{id}/feedback', 'post'>;
export type ReplaceWidgetSettings = BodyOf<'/api/v1/chatbots/{id}/widget-settings', 'put'>;
export type UpdateWidgetSettings = BodyOf<'/api/v1/chatbots/{id}/widget-settings', 'patch'>;
export type WidgetSettingsVersion = ItemOf<'/api/v1/chatbots/{id}/widget-settings/history'>;
export type WidgetLeadRequest = BodyOf<'/api/v1/widget/leads', 'post'>;
export type Lead = ItemOf<'/api/v1/leads'>;
export type LeadListQuery = QueryOf<'/api/v1/leads', 'get'>;
export type LeadDetail = DataOf<'/api/v1/leads/{id}', 'get'>;
export type Source = ItemOf<'/api/v1/chatbots/{id}/sources'>;
export type SourceListQuery = QueryOf<'/api/v1/chatbots/{id}/sources', 'get'>;
export type CreateSource = BodyOf<'/api/v1/chatbots/{id}/sources', 'post'>;
export type UpdateSource = BodyOf<'/api/v1/sources/{id}', 'patch'>;
export type SourceChunk = ItemOf<'/api/v1/sources/{id}/chunks'>;
export type SourcePage = ItemOf<'/api/v1/sources/{id}/pages'>;

/** `page` (from 1) and `perPage` (1..100) of a list. */
export interface PageQuery {
  page?: number;
  perPage?: number;
}
