import type { Query, RequestOptions, Transport } from './transport.js';

/** One page of a list, as the API answers it. */
export interface Page<T> {
  items: T[];
  page: number;
  perPage: number;
  total: number;
  /** True when a later page has items. */
  hasMore: boolean;
}

interface ListEnvelope<T> {
  data: T[];
  meta: { page: number; perPage: number; total: number };
}

/**
 * A list request: `await` it for one page, or iterate it (`for await (const item of list)`) for every
 * item of every page from the one asked for, fetched page by page as the loop goes.
 */
export class PagedList<T> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  constructor(
    private readonly transport: Transport,
    private readonly path: string,
    private readonly query: Query & { page?: number; perPage?: number },
    private readonly options: RequestOptions = {},
  ) {}

  /** The page asked for (the first by default). */
  firstPage(): Promise<Page<T>> {
    return this.fetchPage(this.query.page ?? 1);
  }

  then<A = Page<T>, B = never>(
    onFulfilled?: ((page: Page<T>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.firstPage().then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Page<T> | B> {
    return this.firstPage().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<Page<T>> {
    return this.firstPage().finally(onFinally);
  }

  /** Every page from the one asked for. */
  async *pages(): AsyncGenerator<Page<T>> {
    for (let number = this.query.page ?? 1; ; number += 1) {
      const page = await this.fetchPage(number);
      yield page;
      if (!page.hasMore) return;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item, gathered into one array (mind the size of large lists). */
  async toArray(): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this) all.push(item);
    return all;
  }

  private async fetchPage(page: number): Promise<Page<T>> {
    const body = await this.transport.json<ListEnvelope<T>>(
      { method: 'GET', path: this.path, query: { ...this.query, page } },
      this.options,
    );
    const { perPage, total } = body.meta;
    return { items: body.data, page, perPage, total, hasMore: body.data.length > 0 && page * perPage < total };
  }
}
