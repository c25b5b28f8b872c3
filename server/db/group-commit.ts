/**
 * Group commit: writes asked for in the same turn of the event loop (concurrent requests whose database replies
 * arrived together) are written together, one round trip per key instead of one each. Every caller still
 * awaits its own acknowledged write: its promise settles once the batch holding it is written, with that
 * write's error if it failed. Nothing is held past the current turn of the event loop.
 */
export class GroupCommit<V> {
  private readonly batches = new Map<string, Array<{ value: V; resolve: () => void; reject: (e: unknown) => void }>>();
  private scheduled: NodeJS.Immediate | null = null;

  /**
   * `write` stores one key's values in one round trip; it returns nothing when all were stored, or, for a write
   * that can fail value by value (an unordered bulk write), each value's error (undefined when stored).
   */
  constructor(private readonly write: (key: string, values: V[]) => Promise<Array<unknown> | void>) {}

  /** Joins `value` to this tick's batch of `key`; resolves once it is stored. */
  add(key: string, value: V): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const batch = this.batches.get(key);
      if (batch) batch.push({ value, resolve, reject });
      else this.batches.set(key, [{ value, resolve, reject }]);
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = null;
    const batches = [...this.batches];
    this.batches.clear();
    for (const [key, batch] of batches) {
      this.write(
        key,
        batch.map((entry) => entry.value),
      ).then(
        (errors) => {
          batch.forEach((entry, index) => {
            const error = errors?.[index];
            if (error === undefined) entry.resolve();
            else entry.reject(error);
          });
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }
}
