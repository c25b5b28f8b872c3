import type { PagedList } from '../pagination.js';
import type { RequestOptions } from '../transport.js';
import type {
  Chatbot,
  CreateChatbot,
  CreatedChatbot,
  CreateSource,
  PageQuery,
  ReplaceWidgetSettings,
  Source,
  SourceChunk,
  SourceListQuery,
  SourcePage,
  UnansweredQuestion,
  UpdateChatbot,
  UpdateSource,
  UpdateWidgetSettings,
  WidgetSettings,
  WidgetSettingsVersion,
} from '../types.js';
import { Resource, seg } from './resource.js';

/** Chatbots, addressed by id or slug. */
export class ChatbotsResource extends Resource {
  list(query: PageQuery = {}, options?: RequestOptions): PagedList<Chatbot> {
    return this.paged('/api/v1/chatbots', { ...query }, options);
  }
  /** Creates a bot; the answer carries its `identitySecret`, shown this once. */
  create(body: CreateChatbot, options?: RequestOptions): Promise<CreatedChatbot> {
    return this.data({ method: 'POST', path: '/api/v1/chatbots', body }, options);
  }
  retrieve(idOrSlug: string, options?: RequestOptions): Promise<Chatbot> {
    return this.data({ method: 'GET', path: `/api/v1/chatbots/${seg(idOrSlug)}` }, options);
  }
  update(idOrSlug: string, body: UpdateChatbot, options?: RequestOptions): Promise<Chatbot> {
    return this.data({ method: 'PATCH', path: `/api/v1/chatbots/${seg(idOrSlug)}`, body }, options);
  }
  /** Deletes the bot and everything it owns (sources, conversations, leads, settings). */
  delete(idOrSlug: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/chatbots/${seg(idOrSlug)}` }, options);
  }
  /** A new identity secret for signing end users' `userToken`s (shown this once). */
  rotateIdentitySecret(idOrSlug: string, options?: RequestOptions): Promise<{ identitySecret: string }> {
    return this.data({ method: 'POST', path: `/api/v1/chatbots/${seg(idOrSlug)}/identity-secret` }, options);
  }
  /** The gap log: questions answered with low confidence, most repeated first. */
  unanswered(idOrSlug: string, query: PageQuery = {}, options?: RequestOptions): PagedList<UnansweredQuestion> {
    return this.paged(`/api/v1/chatbots/${seg(idOrSlug)}/unanswered`, { ...query }, options);
  }
}

/** A bot's knowledge: text, URL and file sources, and what was indexed from them. */
export class SourcesResource extends Resource {
  list(chatbot: string, query: SourceListQuery = {}, options?: RequestOptions): PagedList<Source> {
    return this.paged(`/api/v1/chatbots/${seg(chatbot)}/sources`, { ...query }, options);
  }
  /** Adds a text or URL source; it is processed in the background (`status` goes from `queued` to `ready`). */
  create(chatbot: string, body: CreateSource, options?: RequestOptions): Promise<Source> {
    return this.data({ method: 'POST', path: `/api/v1/chatbots/${seg(chatbot)}/sources`, body }, options);
  }
  /** Uploads a file (PDF, DOCX, Markdown, HTML or text). */
  upload(
    chatbot: string,
    file: Blob,
    fields: { filename: string; title?: string },
    options?: RequestOptions,
  ): Promise<Source> {
    const form = new FormData();
    form.set('file', file, fields.filename);
    if (fields.title) form.set('title', fields.title);
    return this.data({ method: 'POST', path: `/api/v1/chatbots/${seg(chatbot)}/sources`, body: form }, options);
  }
  retrieve(id: string, options?: RequestOptions): Promise<Source> {
    return this.data({ method: 'GET', path: `/api/v1/sources/${seg(id)}` }, options);
  }
  update(id: string, body: UpdateSource, options?: RequestOptions): Promise<Source> {
    return this.data({ method: 'PATCH', path: `/api/v1/sources/${seg(id)}`, body }, options);
  }
  delete(id: string, options?: RequestOptions): Promise<unknown> {
    return this.data({ method: 'DELETE', path: `/api/v1/sources/${seg(id)}` }, options);
  }
  /** Fetches and indexes the source again. */
  reindex(id: string, options?: RequestOptions): Promise<Source> {
    return this.data({ method: 'POST', path: `/api/v1/sources/${seg(id)}/reindex` }, options);
  }
  /** The passages indexed from the source, in order. */
  chunks(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<SourceChunk> {
    return this.paged(`/api/v1/sources/${seg(id)}/chunks`, { ...query }, options);
  }
  /** The pages a crawl took and skipped, with the reason for each skip. */
  pages(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<SourcePage> {
    return this.paged(`/api/v1/sources/${seg(id)}/pages`, { ...query }, options);
  }
}

/** How a bot's widget looks and behaves; every change is a new version. */
export class WidgetSettingsResource extends Resource {
  retrieve(chatbot: string, options?: RequestOptions): Promise<WidgetSettings> {
    return this.data({ method: 'GET', path: `/api/v1/chatbots/${seg(chatbot)}/widget-settings` }, options);
  }
  /** Replaces every setting (those left out return to their defaults). */
  replace(chatbot: string, body: ReplaceWidgetSettings, options?: RequestOptions): Promise<WidgetSettings> {
    return this.data({ method: 'PUT', path: `/api/v1/chatbots/${seg(chatbot)}/widget-settings`, body }, options);
  }
  /** Changes only the settings given. */
  update(chatbot: string, body: UpdateWidgetSettings, options?: RequestOptions): Promise<WidgetSettings> {
    return this.data({ method: 'PATCH', path: `/api/v1/chatbots/${seg(chatbot)}/widget-settings`, body }, options);
  }
  history(chatbot: string, query: PageQuery = {}, options?: RequestOptions): PagedList<WidgetSettingsVersion> {
    return this.paged(`/api/v1/chatbots/${seg(chatbot)}/widget-settings/history`, { ...query }, options);
  }
}
