/** Reads an SSE response into its `data:` payloads, parsed as JSON except the `[DONE]` marker. */
export async function readSse(res: Response): Promise<Array<Record<string, unknown> | '[DONE]'>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    )
    .filter((data) => data.length > 0)
    .map((data) => (data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>)));
}

export type SseEvent = Record<string, unknown> | '[DONE]';

/** Reads an SSE response event by event as it arrives, so a test can act mid-stream. */
export class SseReader {
  readonly events: SseEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private ended = false;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** The `chunk` texts received so far. */
  get chunks(): string[] {
    return this.events.flatMap((e) => (typeof e === 'object' && typeof e.chunk === 'string' ? [e.chunk] : []));
  }

  /** Reads until `done(events)` holds; fails if the stream ends first. */
  async until(done: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
    while (!done(this.events)) {
      if (this.ended) throw new Error(`the stream ended first; events: ${JSON.stringify(this.events).slice(0, 500)}`);
      await this.readMore();
    }
    return this.events;
  }

  /** Reads until `count` chunks have arrived. */
  untilChunks(count: number): Promise<SseEvent[]> {
    return this.until(() => this.chunks.length >= count);
  }

  /** Reads to the end of the stream (a connection cut by the server counts as the end). */
  async rest(): Promise<SseEvent[]> {
    while (!this.ended) await this.readMore().catch(() => (this.ended = true));
    return this.events;
  }

  private async readMore(): Promise<void> {
    const { value, done } = await this.reader.read();
    if (done) {
      this.ended = true;
      return;
    }
    this.buffer += this.decoder.decode(value, { stream: true });
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (data) this.events.push(data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>));
    }
  }
}
