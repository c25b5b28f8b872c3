import type { paths } from './generated/schema.js';

// Types of requests and answers, derived from the generated OpenAPI types so they follow the API.

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonContent<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type SuccessResponse<O> = O extends { responses: infer R } ? JsonContent<R[Extract<keyof R, 200 | 201 | 202>]> : never;

/** The `data` of a route's success envelope. */
export type DataOf<P extends keyof paths, M extends Method> =
  SuccessResponse<Operation<P, M>> extends { data: infer D } ? D : never;
/** One item of a list route's `data`. */
export type ItemOf<P extends keyof paths> = DataOf<P, 'get'> extends Array<infer I> ? I : never;
/** A route's JSON request body. */
export type BodyOf<P extends keyof paths, M extends Method> =
  NonNullable<Operation<P, M>['requestBody']> extends { content: { 'application/json': infer B } } ? B : never;
/** A route's query parameters. */
export type QueryOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends {
    parameters: { query?: infer Q };
  }
    ? NonNullable<Q>
    : never;

export type Chatbot = ItemOf<'/api/v1/chatbots'>;
export type CreatedChatbot = DataOf<'/api/v1/chatbots', 'post'>;
export type CreateChatbot = BodyOf<'/api/v1/chatbots', 'post'>;
export type UpdateChatbot = BodyOf<'/api/v1/chatbots/{id}', 'patch'>;
export type UnansweredQuestion = ItemOf<'/api/v1/chatbots/{id}/unanswered'>;
export type ApiKey = ItemOf<'/api/v1/api-keys'>;
export type CreatedApiKey = DataOf<'/api/v1/api-keys', 'post'>;
export type CreateApiKey = BodyOf<'/api/v1/api-keys', 'post'>;
export type Usage = DataOf<'/api/v1/usage', 'get'>;
export type Integration = ItemOf<'/api/v1/integrations'>;
export type CreateIntegration = BodyOf<'/api/v1/integrations', 'post'>;
export type UpdateIntegration = BodyOf<'/api/v1/integrations/{id}', 'patch'>;
export type ChatRequest = BodyOf<'/api/v1/chat', 'post'>;
export type BotChatRequest = BodyOf<'/api/v1/chatbots/{id}/chat', 'post'>;
export type ChatResult = DataOf<'/api/v1/chat', 'post'>;
export type ConversationSummary = ItemOf<'/api/v1/conversations'>;
export type ConversationListQuery = QueryOf<'/api/v1/conversations', 'get'>;
export type Conversation = DataOf<'/api/v1/conversations/{id}', 'get'>;
export type Message = ItemOf<'/api/v1/conversations/{id}/messages'>;
export type Feedback = BodyOf<'/api/v1/messages/{id}/feedback', 'post'>;
export type WidgetSettings = DataOf<'/api/v1/chatbots/{id}/widget-settings', 'get'>;
export type ReplaceWidgetSettings = BodyOf<'/api/v1/chatbots/{id}/widget-settings', 'put'>;
export type UpdateWidgetSettings = BodyOf<'/api/v1/chatbots/{id}/widget-settings', 'patch'>;
export type WidgetSettingsVersion = ItemOf<'/api/v1/chatbots/{id}/widget-settings/history'>;
export type WidgetConfig = DataOf<'/api/v1/widget-config', 'get'>;
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
