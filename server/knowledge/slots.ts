/**
 * At most `size` holders at a time; the others wait in arrival order. Jobs take a slot only around the steps
 * that hold a network request or a large document (fetching a page, extracting a file, asking the embedding
 * model), so many text sources run at once while fetches and memory stay bounded as before.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  /** Runs `work` in a slot; a signal that aborts while waiting gives up the place in line. */
  async run<R>(work: () => Promise<R>, signal: AbortSignal): Promise<R> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.used < this.size) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = () => {
        const at = this.waiting.indexOf(take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      this.waiting.push(take);
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  private release(): void {
    // A slot passes straight to the next in line, so `used` counts it still.
    const next = this.waiting.shift();
    if (next) next();
    else this.used -= 1;
  }
}
