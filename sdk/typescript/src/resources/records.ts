import {
  ApiKeysOperations,
  ConversationsOperations,
  IntegrationsOperations,
  LeadsOperations,
  MessagesOperations,
  UsageOperations,
  WidgetOperations,
} from '../generated/operations.js';
import type { PagedList } from '../pagination.js';
import type { RequestOptions } from '../transport.js';
import type {
  ApiKey,
  Conversation,
  Feedback,
  Integration,
  LeadDetail,
  Message,
  PageQuery,
  Usage,
  WidgetConfig,
  WidgetLeadRequest,
} from '../types.js';

// The generated operations under the names earlier versions of this SDK gave them.

/** Conversations of the organization (API and widget alike), newest first. */
export class ConversationsResource extends ConversationsOperations {
  /** @deprecated The same as `get`. */
  retrieve(id: string, options?: RequestOptions): Promise<Conversation> {
    return this.get(id, options);
  }
  /** @deprecated The same as `listMessages`. */
  messages(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<Message> {
    return this.listMessages(id, query, options);
  }
}

/** Messages: a rating of an answer. */
export class MessagesResource extends MessagesOperations {
  /** @deprecated The same as `sendFeedback`. */
  feedback(messageId: string, body: Feedback, options?: RequestOptions): Promise<Message> {
    return this.sendFeedback(messageId, body, options);
  }
}

/** Leads captured by the bots. */
export class LeadsResource extends LeadsOperations {
  /** @deprecated The same as `get`. */
  retrieve(id: string, options?: RequestOptions): Promise<LeadDetail> {
    return this.get(id, options);
  }
}

/** The organization's API keys (scope `admin`). */
export class ApiKeysResource extends ApiKeysOperations {
  /** @deprecated The same as `get`. */
  retrieve(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.get(id, options);
  }
}

/** The organization's usage this month against its quota. */
export class UsageResource extends UsageOperations {
  /** @deprecated The same as `get`. */
  retrieve(options?: RequestOptions): Promise<Usage> {
    return this.get(options);
  }
}

/** Model connections: OpenAI-compatible endpoints the bots answer with. */
export class IntegrationsResource extends IntegrationsOperations {
  /** @deprecated The same as `get`. */
  retrieve(id: string, options?: RequestOptions): Promise<Integration> {
    return this.get(id, options);
  }
}

/** The widget's public routes (no key needed; checked against the bot's allowed origins). */
export class WidgetResource extends WidgetOperations {
  /** @deprecated The same as `getConfig({ bot })`. */
  config(bot: string, options?: RequestOptions): Promise<WidgetConfig> {
    return this.getConfig({ bot }, options);
  }
  /** @deprecated The same as `createLead`. */
  submitLead(body: WidgetLeadRequest, options?: RequestOptions): Promise<unknown> {
    return this.createLead(body, options);
  }
}
