import { ChatbotsOperations, WidgetSettingsOperations } from '../generated/operations.js';
import type { PagedList } from '../pagination.js';
import type { RequestOptions } from '../transport.js';
import type { Chatbot, PageQuery, UnansweredQuestion, WidgetSettings, WidgetSettingsVersion } from '../types.js';

// The generated operations under the names earlier versions of this SDK gave them.

/** Chatbots, addressed by id or slug. */
export class ChatbotsResource extends ChatbotsOperations {
  /** @deprecated The same as `get`. */
  retrieve(idOrSlug: string, options?: RequestOptions): Promise<Chatbot> {
    return this.get(idOrSlug, options);
  }
  /** @deprecated The same as `listUnanswered`. */
  unanswered(idOrSlug: string, query: PageQuery = {}, options?: RequestOptions): PagedList<UnansweredQuestion> {
    return this.listUnanswered(idOrSlug, query, options);
  }
}

/** How a bot's widget looks and behaves; every change is a new version. */
export class WidgetSettingsResource extends WidgetSettingsOperations {
  /** @deprecated The same as `get`. */
  retrieve(chatbot: string, options?: RequestOptions): Promise<WidgetSettings> {
    return this.get(chatbot, options);
  }
  /** @deprecated The same as `listHistory`. */
  history(chatbot: string, query: PageQuery = {}, options?: RequestOptions): PagedList<WidgetSettingsVersion> {
    return this.listHistory(chatbot, query, options);
  }
}
