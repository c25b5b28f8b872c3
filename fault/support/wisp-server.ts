import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ApiClient } from '../../server/test/api-client.js';
import { childPids, commandName, ServerProcess } from '../../server/test/server-process.js';
import { SseReader } from '../../server/test/sse.js';

const KEY_LINE = /Admin API key \(shown once, keep it safe\): (sk_live_\w+)/;

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  status: 'complete' | 'pending' | 'failed';
  content: string;
  clientMessageId: string | null;
}

/**
 * A real Wisp server process on a file-backed embedded database under its own temporary DATA_DIR,
 * restartable on the same data, as an operator runs it.
 */
export class WispServer {
  readonly dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-fault-'));
  process: ServerProcess | null = null;
  url = '';
  key = '';

  constructor(private readonly env: Record<string, string>) {}

  /** Starts (or restarts) the server on the same data and waits until it listens. */
  async start(): Promise<void> {
    this.process = new ServerProcess(
      {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        DATA_DIR: path.join(this.dataDir, 'data'),
        ...this.env,
      },
      this.dataDir,
    );
    this.url = await this.process.ready(60_000);
    this.key ||= KEY_LINE.exec(this.process.stdout)?.[1] ?? '';
    expect(this.key, 'the first-start admin key').not.toBe('');
  }

  get api(): ApiClient {
    return new ApiClient(this.url, this.key);
  }

  /** The embedded database child (java) of the running server. */
  databasePid(): number {
    const java = childPids(this.process!.pid).filter((pid) => commandName(pid) === 'java');
    expect(java, 'one java child').toHaveLength(1);
    return java[0]!;
  }

  async createBot(name: string): Promise<string> {
    const res = await this.api.post<{ id: string }>('/api/v1/chatbots', { name });
    expect(res.status).toBe(201);
    return res.body.data.id;
  }

  /** Starts a streamed chat and returns its reader once the response headers are in. */
  async stream(body: Record<string, unknown>): Promise<SseReader> {
    const res = await fetch(`${this.url}/api/v1/chat`, {
      method: 'POST',
      headers: this.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ stream: true, ...body }),
    });
    expect(res.status).toBe(200);
    return new SseReader(res);
  }

  /** The conversation of `sessionId`, or null before it exists. */
  async conversationOf(sessionId: string): Promise<string | null> {
    const res = await this.api.get<Array<{ id: string; sessionId: string | null }>>(
      '/api/v1/conversations?perPage=100',
    );
    return res.body.data.find((c) => c.sessionId === sessionId)?.id ?? null;
  }

  async messages(conversationId: string): Promise<StoredMessage[]> {
    const res = await this.api.get<StoredMessage[]>(`/api/v1/conversations/${conversationId}/messages?perPage=100`);
    expect(res.status).toBe(200);
    return res.body.data;
  }

  /** Stops the server if it still runs, and removes its data. */
  async dispose(): Promise<void> {
    await this.process?.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Text of `words` numbered words: any prefix of it is recognisable, and cut points are visible. */
export function longReply(words: number): string {
  return Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
}

/** Polls `read` until `done` holds for its value (no fixed sleeps); returns that value. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
