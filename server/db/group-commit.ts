/** What a batch's flush says about one of its items: its result, or why that item alone failed. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export const succeeded = <R>(value: R): ItemOutcome<R> => ({ ok: true, value });

/** The most items one flush writes unless the owner says otherwise. */
const MAX_BATCH = 500;

interface Entry<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  /** When it is flushed at the latest (`Date.now()` time); 0 for the next turn of the event loop. */
  dueAt: number;
}

/** How a submitted item waits for its flush. */
export interface SubmitOptions {
  /**
   * Waits up to this long for an item that is flushed at once (or for a flush already due) to ride along with,
   * rather than being flushed on its own at the next turn of the event loop: for a write nobody needs at once
   * that is cheaper joined to another (see `UsageWrites.add`).
   */
  lingerMs?: number;
}

/**
 * Group commit: items submitted in the same turn of the event loop, or while a flush is in flight, are written
 * together by the next flush, one round trip for all of them (at most `maxBatch`; the rest wait for the flush
 * after). At most one flush runs at a time, so under load the batches grow by themselves, and with one caller
 * nothing waits longer than a turn. Every caller awaits its own acknowledged write: its promise settles once the
 * flush holding it answered. The flush answers for every item: one failing item fails only its own caller; a
 * flush that throws fails every item of its batch, and the next batch is flushed as usual.
 */
export class GroupCommit<T, R = void> {
  private pending: Array<Entry<T, R>> = [];
  private flushing = false;
  private scheduled = false;
  /** The flush of lingering items only (see `SubmitOptions.lingerMs`), and when it is due. */
  private lingerTimer: NodeJS.Timeout | null = null;
  private lingerAt = Infinity;

  /**
   * `flush` writes a batch in one round trip and answers for each item, in order. `onIdle` is called whenever
   * nothing is left pending or in flight (see `KeyedGroupCommit`).
   */
  constructor(
    private readonly flush: (items: T[]) => Promise<Array<ItemOutcome<R>>>,
    private readonly maxBatch = MAX_BATCH,
    private readonly onIdle?: () => void,
  ) {}

  /**
   * Joins `item` to the next batch (or, lingering, to a later one: see `SubmitOptions`); resolves with its result
   * once that batch is written.
   */
  submit(item: T, options: SubmitOptions = {}): Promise<R> {
    const lingerMs = options.lingerMs ?? 0;
    return new Promise<R>((resolve, reject) => {
      const dueAt = lingerMs > 0 ? Date.now() + lingerMs : 0;
      this.pending.push({ item, resolve, reject, dueAt });
      if (dueAt === 0) this.schedule();
      else this.linger(dueAt);
    });
  }

  /** Flushes at `dueAt` unless a flush runs or is scheduled before (the lingering items ride on it). */
  private linger(dueAt: number): void {
    if (this.flushing || this.scheduled || this.lingerAt <= dueAt) return;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerAt = dueAt;
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = null;
        this.lingerAt = Infinity;
        void this.run();
      },
      Math.max(0, dueAt - Date.now()),
    );
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
    // Lingering items ride on this flush.
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.lingerAt = Infinity;
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
      if (this.pending.length === 0) this.onIdle?.();
      else {
        // The earliest due (a loop: a spread of thousands of pending items could exceed the arguments' limit).
        let dueAt = Infinity;
        for (const entry of this.pending) if (entry.dueAt < dueAt) dueAt = entry.dueAt;
        if (dueAt <= Date.now()) this.schedule();
        else this.linger(dueAt);
      }
    }
  }
}

/**
 * Group commit by key: values added for one key are written together (see `GroupCommit`: one flush per key at
 * a time, values added in the same turn or while that key's flush is in flight join its next one); different
 * keys are written independently. A key is held only while it has values pending or in flight.
 */
export class KeyedGroupCommit<V> {
  private readonly groups = new Map<string, GroupCommit<V>>();

  /**
   * `write` stores one key's values in one round trip; it returns nothing when all were stored, or, for a write
   * that can fail value by value (an unordered bulk write), each value's error (undefined when stored).
   */
  constructor(
    private readonly write: (key: string, values: V[]) => Promise<Array<unknown> | void>,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  /**
   * Joins `value` to the next batch of `key` (or, lingering, to a later one: see `SubmitOptions`); resolves once it
   * is stored.
   */
  add(key: string, value: V, options: SubmitOptions = {}): Promise<void> {
    let group = this.groups.get(key);
    if (!group) {
      const created = new GroupCommit<V>(
        async (values) => {
          const errors = await this.write(key, values);
          return values.map((_, index): ItemOutcome<void> => {
            const error = errors?.[index];
            return error === undefined ? succeeded(undefined) : { ok: false, error };
          });
        },
        this.maxBatch,
        () => {
          if (this.groups.get(key) === created) this.groups.delete(key);
        },
      );
      this.groups.set(key, created);
      group = created;
    }
    return group.submit(value, options);
  }

  /** How many keys have values pending or in flight. */
  get activeKeys(): number {
    return this.groups.size;
  }
}

/**
 * Group commit by key with a result for each item: items submitted for one key are flushed together (see
 * `GroupCommit`), different keys independently; a key is held only while it has items pending or in flight.
 */
export class KeyedBatches<T, R> {
  private readonly groups = new Map<string, GroupCommit<T, R>>();

  constructor(
    private readonly flush: (key: string, items: T[]) => Promise<Array<ItemOutcome<R>>>,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  /**
   * Joins `item` to the next batch of `key` (or, lingering, to a later one: see `SubmitOptions`); resolves with its
   * result once that batch is flushed.
   */
  submit(key: string, item: T, options: SubmitOptions = {}): Promise<R> {
    let group = this.groups.get(key);
    if (!group) {
      const created = new GroupCommit<T, R>(
        (items) => this.flush(key, items),
        this.maxBatch,
        () => {
          if (this.groups.get(key) === created) this.groups.delete(key);
        },
      );
      this.groups.set(key, created);
      group = created;
    }
    return group.submit(item, options);
  }
}

/**
 * Group read by key: the callers asking for one key while its read is in flight share the next read, which
 * starts after they asked, so every caller sees what the database held at some moment after its call (a write
 * acknowledged before the call is always seen), as with a read of its own. Under load the callers of a hot
 * key (a bot's version, its actions) cost one round trip per read in flight rather than one each.
 */
export class KeyedGroupRead<R> {
  // One read answers any number of callers.
  private readonly batches = new KeyedBatches<null, R>(async (key, callers) => {
    const value = await this.read(key);
    return callers.map(() => succeeded(value));
  }, Number.MAX_SAFE_INTEGER);

  constructor(private readonly read: (key: string) => Promise<R>) {}

  /** What the next read of `key` returns (the same value for every caller that joined it). */
  get(key: string): Promise<R> {
    return this.batches.submit(key, null);
  }
}
