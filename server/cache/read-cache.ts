/**
 * A short-lived cache of documents read on every request (a bot, an organization's settings), in front of
 * the database. Writers invalidate a key explicitly (on this node at once, on other nodes through the
 * invalidation bus); the time to live only bounds what a lost invalidation could leave stale.
 *
 * A read that was in flight while its key was invalidated is not kept: it may have read the document from
 * before the write.
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  /** Bumped by every invalidation; a load started under an older generation is returned but not kept. */
  private generation = 0;
  /** Reads in flight by key, shared by callers that miss together; an invalidation detaches them. */
  private readonly loading = new Map<string, Promise<T | null>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The cached value of `key`, or what `load` reads (kept unless `key` was invalidated meanwhile). Callers
   * missing the same key together share one read, so an expiry under load costs one round trip, not one each.
   */
  get(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const running = this.loading.get(key);
    if (running) return running;
    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (value !== null && generation === this.generation) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  /** Reads with `load` and keeps the value under `keyOf(value)` (for lookups by another unique field). */
  async fill(load: () => Promise<T | null>, keyOf: (value: T) => string): Promise<T | null> {
    const generation = this.generation;
    const value = await load();
    if (value !== null && generation === this.generation) this.set(keyOf(value), value);
    return value;
  }

  /** The cached value, or undefined when absent or expired. */
  peek(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
  }

  invalidate(key: string): void {
    this.generation += 1;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.loading.clear();
  }
}
