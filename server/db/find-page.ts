/** The stable order of every list: newest first, ties broken by id. */
export const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

interface Skippable<T> {
  skip(count: number): { limit(count: number): PromiseLike<T[]> };
}

/**
 * One page of a query the caller built (filter, sort, projection), with the total count of the
 * same filter, fetched together.
 */
export async function findPage<T>(
  query: Skippable<T>,
  count: PromiseLike<number>,
  page: number,
  perPage: number,
): Promise<{ items: T[]; total: number }> {
  const [items, total] = await Promise.all([query.skip((page - 1) * perPage).limit(perPage), count]);
  return { items, total };
}
