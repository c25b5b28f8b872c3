import { PagedList } from '../pagination.js';
import type { Call, Query, RequestOptions, Transport } from '../transport.js';

/** What every resource shares: unwrapping the envelope's `data`, and lists. */
export abstract class Resource {
  constructor(protected readonly transport: Transport) {}

  protected async data<T>(call: Call, options?: RequestOptions): Promise<T> {
    return (await this.transport.json<{ data: T }>(call, options)).data;
  }

  protected paged<T>(path: string, query: Query = {}, options?: RequestOptions): PagedList<T> {
    return new PagedList<T>(this.transport, path, query, options);
  }
}

/** A path segment (an id or slug), encoded. */
export const seg = (value: string) => encodeURIComponent(value);

/** A client-chosen message id that makes a chat send safe to retry (the same id answers the stored answer). */
export const newClientMessageId = () => `sdk:${crypto.randomUUID()}`;
