import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startSilentServer, type SilentServer } from '../test/silent-server.js';
import { ModelUnavailableError, type CompletionPart } from './model-client.js';
import { modelFetch } from './model-fetch.js';
import { OpenAiChatModel, OpenAiEmbeddingModel, type EndpointSettings } from './openai-models.js';

const question = [{ role: 'user' as const, content: 'How do I reset my password?' }];

async function collect(model: OpenAiChatModel, signal = new AbortController().signal): Promise<CompletionPart[]> {
  const parts: CompletionPart[] = [];
  for await (const part of model.stream(question, { signal, temperature: 0, maxTokens: 100 })) parts.push(part);
  return parts;
}

// The same behaviour on the platform's fetch and on modelFetch (undici's request, a node-fetch style response).
describe.each([
  { name: "the platform's fetch", fetches: {} },
  { name: 'modelFetch', fetches: { chatFetch: modelFetch() } },
])('the OpenAI client on $name', ({ fetches }) => {
  let fake: FakeLlm;
  let settings: EndpointSettings;

  beforeAll(async () => {
    fake = await startFakeLlm();
    settings = { baseURL: fake.url, apiKey: 'test', ...fetches, backoffMs: 1, idleTimeoutMs: 300 };
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('streams the answer, its finish reason and usage', async () => {
    const parts = await collect(new OpenAiChatModel('fake-chat', settings));
    const text = parts.flatMap((part) => (part.type === 'delta' ? [part.text] : [])).join('');
    expect(text).toBe('Echo: How do I reset my password?');
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { prompt: 6, completion: 7 },
      retries: 0,
    });
    expect(fake.calls[0]!.body).toMatchObject({ model: 'fake-chat', stream: true, messages: question });
  });

  it('answers a whole completion and embeddings (JSON bodies)', async () => {
    const completion = await new OpenAiChatModel('fake-chat', settings).complete(question, [], {
      signal: new AbortController().signal,
      temperature: 0,
      maxTokens: 100,
    });
    expect(completion).toMatchObject({
      content: 'Echo: How do I reset my password?',
      finishReason: 'stop',
      retries: 0,
    });
    const vectors = await new OpenAiEmbeddingModel('fake-embed', settings).embed(['one', 'two']);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(64);
  });

  it('retries answers of 500 and counts the retries', async () => {
    fake.failNext(2, 500);
    const parts = await collect(new OpenAiChatModel('fake-chat', settings));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', retries: 2 });
    expect(fake.calls).toHaveLength(3);
  });

  it('when the model keeps answering 400, fails once without retrying', async () => {
    fake.failAlways(400);
    const failure = await collect(new OpenAiChatModel('fake-chat', settings)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect((failure as Error).message).toBe('the model provider answered 400 after 1 attempt(s)');
  });

  it('when the stream dies midway, fails as partial', async () => {
    fake.dieMidStream(2);
    const failure = await collect(new OpenAiChatModel('fake-chat', settings)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect(failure).toMatchObject({ message: 'the model provider failed mid-answer', partial: true });
  });

  it('when the stream goes silent, aborts the request after the idle timeout', async () => {
    fake.stallMidStream(2);
    const failure = await collect(new OpenAiChatModel('fake-chat', settings)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'the model provider stopped sending', partial: true });
    await expect.poll(() => fake.calls.at(-1)?.aborted).toBe(true);
  });

  it('completes a stream longer in all than the idle timeout whose chunks are never that far apart', async () => {
    fake.setLatency(0, 100);
    const parts = await collect(new OpenAiChatModel('fake-chat', settings));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(parts.filter((part) => part.type === 'delta').length).toBeGreaterThan(3);
  });

  it("when the caller's signal aborts mid-stream, throws its reason and closes the request", async () => {
    fake.stallMidStream(2);
    const controller = new AbortController();
    const model = new OpenAiChatModel('fake-chat', { ...settings, idleTimeoutMs: 60_000 });
    const parts: CompletionPart[] = [];
    const failure = await (async () => {
      for await (const part of model.stream(question, { signal: controller.signal, temperature: 0, maxTokens: 100 })) {
        parts.push(part);
        if (parts.length === 2) controller.abort(new Error('client left'));
      }
    })().catch((error: unknown) => error);
    expect(failure).toEqual(new Error('client left'));
    await expect.poll(() => fake.calls.at(-1)?.aborted).toBe(true);
  });

  it('when nothing listens, fails as unreachable after the retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const model = new OpenAiChatModel('fake-chat', { ...settings, baseURL: `http://127.0.0.1:${port}/v1` });
    const failure = await collect(model).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      message: 'the model provider could not be reached after 3 attempt(s)',
      retries: 2,
    });
  });

  describe('when the response does not start in time', () => {
    let silent: SilentServer;
    let url: string;

    beforeAll(async () => {
      silent = await startSilentServer();
      url = `${silent.url}v1`;
    });
    afterAll(() => silent.stop());

    it('fails as timed out after the retries', async () => {
      const model = new OpenAiChatModel('fake-chat', { ...settings, baseURL: url, timeoutMs: 100, maxRetries: 1 });
      const failure = await collect(model).catch((error: unknown) => error);
      expect(failure).toMatchObject({ message: 'the model provider timed out after 2 attempt(s)', retries: 1 });
    });
  });
});

describe('modelFetch', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ url?: string; encoding?: string }> = [];

  beforeAll(async () => {
    // Redirects every request once, then answers a whole completion.
    server = createServer((req, res) => {
      seen.push({ url: req.url, encoding: req.headers['accept-encoding'] });
      req.resume();
      if (!req.url?.startsWith('/moved/')) {
        res.writeHead(307, { location: `/moved${req.url ?? ''}` }).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }], usage: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('asks for the response uncompressed and answers a redirect as the provider did, without following it', async () => {
    const model = new OpenAiChatModel('fake-chat', { baseURL: url, apiKey: 'test', chatFetch: modelFetch() });
    const failure = await model
      .complete(question, [], { signal: new AbortController().signal, temperature: 0, maxTokens: 100 })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'the model provider answered 307 after 1 attempt(s)' });
    expect(seen).toEqual([{ url: '/v1/chat/completions', encoding: 'identity' }]);
  });
});
