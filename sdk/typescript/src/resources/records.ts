import type { PagedList } from '../pagination.js';
import type { RequestOptions } from '../transport.js';
import type {
  ApiKey,
  ConversationListQuery,
  Conversation,
  ConversationSummary,
  CreateApiKey,
  CreatedApiKey,
  CreateIntegration,
  Feedback,
  Integration,
  Lead,
  LeadDetail,
  LeadListQuery,
  Message,
  PageQuery,
  UpdateIntegration,
  Usage,
  WidgetConfig,
  WidgetLeadRequest,
} from '../types.js';
import { Resource, seg } from './resource.js';

/** Conversations of the organization (API and widget alike), newest first. */
export class ConversationsResource extends Resource {
  list(query: ConversationListQuery = {}, options?: RequestOptions): PagedList<ConversationSummary> {
    return this.paged('/api/v1/conversations', { ...query }, options);
  }
  retrieve(id: string, options?: RequestOptions): Promise<Conversation> {
    return this.data({ method: 'GET', path: `/api/v1/conversations/${seg(id)}` }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/conversations/${seg(id)}` }, options);
  }
  /** The conversation's messages, oldest first. */
  messages(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<Message> {
    return this.paged(`/api/v1/conversations/${seg(id)}/messages`, { ...query }, options);
  }
}

/** Messages: a rating of an answer. */
export class MessagesResource extends Resource {
  feedback(messageId: string, body: Feedback, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'POST', path: `/api/v1/messages/${seg(messageId)}/feedback`, body }, options);
  }
}

/** Leads captured by the bots. */
export class LeadsResource extends Resource {
  list(query: LeadListQuery = {}, options?: RequestOptions): PagedList<Lead> {
    return this.paged('/api/v1/leads', { ...query }, options);
  }
  /** A lead with the transcripts of its conversations. */
  retrieve(id: string, options?: RequestOptions): Promise<LeadDetail> {
    return this.data({ method: 'GET', path: `/api/v1/leads/${seg(id)}` }, options);
  }
  /** Erases the lead (and its email from its conversations). */
  delete(id: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/leads/${seg(id)}` }, options);
  }
  /** Every lead matching the filters, as CSV text. */
  exportCsv(query: Omit<LeadListQuery, 'page' | 'perPage'> = {}, options?: RequestOptions): Promise<string> {
    return this.transport.text({ method: 'GET', path: '/api/v1/leads/export.csv', query: { ...query } }, options);
  }
}

/** The organization's API keys (scope `admin`). */
export class ApiKeysResource extends Resource {
  list(query: PageQuery = {}, options?: RequestOptions): PagedList<ApiKey> {
    return this.paged('/api/v1/api-keys', { ...query }, options);
  }
  /** Creates a key; the answer's `key` is shown this once. */
  create(body: CreateApiKey, options?: RequestOptions): Promise<CreatedApiKey> {
    return this.data({ method: 'POST', path: '/api/v1/api-keys', body }, options);
  }
  retrieve(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.data({ method: 'GET', path: `/api/v1/api-keys/${seg(id)}` }, options);
  }
  /** Revokes the key at once. */
  revoke(id: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/api-keys/${seg(id)}` }, options);
  }
  /** A new secret for the key (the old one stops working). */
  rotate(id: string, options?: RequestOptions): Promise<CreatedApiKey> {
    return this.data({ method: 'POST', path: `/api/v1/api-keys/${seg(id)}/rotate` }, options);
  }
}

/** The organization's usage this month against its quota. */
export class UsageResource extends Resource {
  retrieve(options?: RequestOptions): Promise<Usage> {
    return this.data({ method: 'GET', path: '/api/v1/usage' }, options);
  }
}

/** Model connections: OpenAI-compatible endpoints the bots answer with. */
export class IntegrationsResource extends Resource {
  list(query: PageQuery = {}, options?: RequestOptions): PagedList<Integration> {
    return this.paged('/api/v1/integrations', { ...query }, options);
  }
  create(body: CreateIntegration, options?: RequestOptions): Promise<Integration> {
    return this.data({ method: 'POST', path: '/api/v1/integrations', body }, options);
  }
  retrieve(id: string, options?: RequestOptions): Promise<Integration> {
    return this.data({ method: 'GET', path: `/api/v1/integrations/${seg(id)}` }, options);
  }
  update(id: string, body: UpdateIntegration, options?: RequestOptions): Promise<Integration> {
    return this.data({ method: 'PATCH', path: `/api/v1/integrations/${seg(id)}`, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/integrations/${seg(id)}` }, options);
  }
}

/** The widget's public routes (no key needed; checked against the bot's allowed origins). */
export class WidgetResource extends Resource {
  /** The public config the widget loads for `bot` (id or slug). */
  config(bot: string, options?: RequestOptions): Promise<WidgetConfig> {
    return this.data({ method: 'GET', path: '/api/v1/widget-config', query: { bot } }, options);
  }
  /** Submits a lead as the widget does. */
  submitLead(body: WidgetLeadRequest, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'POST', path: '/api/v1/widget/leads', body }, options);
  }
}
