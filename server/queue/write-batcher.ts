/** What a batch's flush says about one of its items: its result, or why that item alone failed. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit: items submitted while a flush is in flight (or in the same turn of the event loop) are
 * written together by the next flush, one round trip for all of them. At most one flush runs at a time, so
 * under load the batches grow by themselves and with one caller nothing waits longer than a turn.
 * The flush answers for every item: one failing item fails only its own caller; a flush that throws fails
 * every item of its batch.
 */
export class WriteBatcher<T, R> {
  private pending: Array<{ item: T; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<Array<ItemOutcome<R>>>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // The rest of this turn's submissions join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const outcomes = await this.flush(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => {
        const outcome = outcomes[index];
        if (!outcome) entry.reject(new Error('the batch gave no outcome for this item'));
        else if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}

export const succeeded = <R>(value: R): ItemOutcome<R> => ({ ok: true, value });
