import { SourcesOperations } from '../generated/operations.js';
import type { PagedList } from '../pagination.js';
import type { RequestOptions } from '../transport.js';
import type { PageQuery, Source, SourceChunk, SourcePage } from '../types.js';
import { seg } from './resource.js';

/** A bot's knowledge: text, URL and file sources, and what was indexed from them. */
export class SourcesResource extends SourcesOperations {
  /** Uploads a file (PDF, DOCX, Markdown, HTML or text) as a source of the bot `chatbot` (id or slug). */
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

  /** @deprecated The same as `get`. */
  retrieve(id: string, options?: RequestOptions): Promise<Source> {
    return this.get(id, options);
  }
  /** @deprecated The same as `listChunks`. */
  chunks(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<SourceChunk> {
    return this.listChunks(id, query, options);
  }
  /** @deprecated The same as `listPages`. */
  pages(id: string, query: PageQuery = {}, options?: RequestOptions): PagedList<SourcePage> {
    return this.listPages(id, query, options);
  }
}
