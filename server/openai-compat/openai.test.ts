import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_QUEUE_ENV, waitForSource } from '../knowledge/test/knowledge-client.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { openAiClient, type ApiError } from './test/openai-client.js';

interface WispExtension {
  conversation_id: string;
  message_id: string;
  sources: Array<{ source_id: string; title: string; excerpt: string; score: number }>;
  confidence: number;
  model: string | null;
}

describe('the OpenAI-compatible endpoint, through the official openai client', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let client: OpenAI;
  let sourceId: string;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        ...FAST_QUEUE_ENV,
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_RETRY_BACKOFF_MS: '10',
      },
    });
    org = await t.createOrg('OpenAI door');
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Outdoor shop', slug: 'outdoor' });
    const source = await org.api.post<{ id: string }>(`/api/v1/chatbots/${bot.body.data.id}/sources`, {
      type: 'text',
      title: 'Returns',
      content: 'Tents can be returned within 30 days of delivery, unused and in their original bag.',
    });
    sourceId = source.body.data.id;
    await waitForSource(org.api, sourceId, ['ready']);
    client = openAiClient(t.url, org.adminKey);
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const lastPrompt = () => {
    const call = fake.calls.filter((c) => c.path === '/v1/chat/completions').at(-1);
    return (call?.body as { messages: Array<{ role: string; content: string }> }).messages;
  };

  it('lists the bots as models, and retrieves one by slug', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['outdoor']);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'wisp', created: expect.any(Number) });
    const one = await client.models.retrieve('outdoor');
    expect(one.id).toBe('outdoor');
  });

  it('answers JSON with usage filled and citations and confidence in the wisp field', async () => {
    const completion = await client.chat.completions.create({
      model: 'outdoor',
      messages: [
        { role: 'system', content: 'You are a pirate.' },
        { role: 'user', content: 'Do you sell tents?' },
        { role: 'assistant', content: 'Yes, many.' },
        { role: 'user', content: [{ type: 'text', text: 'Can I return a tent?' }] },
      ],
      temperature: 0.2,
      max_tokens: 100,
      top_p: 1,
      // Ignored, as the bot calls no tools; its JSON Schema's `$defs` is no reason to refuse the request.
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup_order',
            parameters: {
              type: 'object',
              $defs: { id: { type: 'string' } },
              properties: { id: { $ref: '#/$defs/id' } },
            },
          },
        },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('outdoor');
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(completion.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    expect(completion.choices[0]!.message.content).toMatch(/^Based on \[1\]: .*Tents can be returned/);
    const { usage } = completion;
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    const wisp = (completion as unknown as { wisp: WispExtension }).wisp;
    expect(wisp.sources[0]).toMatchObject({ source_id: sourceId, title: 'Returns' });
    expect(wisp.confidence).toBeGreaterThan(0);
    expect(wisp.model).toBe('fake-chat');
    expect(completion.id).toBe(`chatcmpl-${wisp.message_id}`);
    // The model saw the bot's own instructions, the client's earlier turns as history, then the question.
    const prompt = lastPrompt();
    expect(prompt.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(prompt[0]!.content).not.toContain('pirate');
    expect(prompt.slice(1).map((m) => m.content)).toEqual(['Do you sell tents?', 'Yes, many.', 'Can I return a tent?']);
    // The turn is stored like any other API conversation.
    const stored = await org.api.get<Array<{ role: string; content: string }>>(
      `/api/v1/conversations/${wisp.conversation_id}/messages`,
    );
    expect(stored.body.data.map((m) => m.content)).toEqual([
      'Can I return a tent?',
      completion.choices[0]!.message.content,
    ]);
  });

  it("streams OpenAI's chunks, the last with finish_reason, usage and the wisp field", async () => {
    const stream = await client.chat.completions.create({
      model: 'outdoor',
      messages: [{ role: 'user', content: 'hello stream' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: hello stream');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect(last.usage!.total_tokens).toBeGreaterThan(0);
    expect((last as unknown as { wisp: WispExtension }).wisp.conversation_id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('with stream_options.include_usage, sends usage in a last chunk without choices, as OpenAI does', async () => {
    const stream = await client.chat.completions.create({
      model: 'outdoor',
      messages: [{ role: 'user', content: 'count my tokens' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('reports a model failure mid-stream as an error event, which the client throws', async () => {
    fake.dieMidStream(2);
    const stream = await client.chat.completions.create({
      model: 'outdoor',
      messages: [{ role: 'user', content: 'break midway #long' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as ApiError).error).toMatchObject({ type: 'server_error', code: 'service_unavailable' });
  });

  it('ends a raw stream with data: [DONE]', async () => {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ model: 'outdoor', messages: [{ role: 'user', content: 'raw' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('continues the stored conversation of a `user`, whose history the model sees when only the question is sent', async () => {
    const ask = (content: string) =>
      client.chat.completions.create({ model: 'outdoor', messages: [{ role: 'user', content }], user: 'customer-7' });
    const first = await ask('My order is 1234');
    const second = await ask('What was my order number?');
    const conversation = (c: typeof first) => (c as unknown as { wisp: WispExtension }).wisp.conversation_id;
    expect(conversation(second)).toBe(conversation(first));
    expect(
      lastPrompt()
        .slice(1)
        .map((m) => m.content),
    ).toEqual(['My order is 1234', 'Echo: My order is 1234', 'What was my order number?']);
  });

  it('continues a conversation named by the conversation_id extension', async () => {
    const first = await client.chat.completions.create({
      model: 'outdoor',
      messages: [{ role: 'user', content: 'first question' }],
    });
    const conversationId = (first as unknown as { wisp: WispExtension }).wisp.conversation_id;
    const params = { model: 'outdoor', messages: [{ role: 'user' as const, content: 'second question' }] };
    const second = await client.chat.completions.create({
      ...params,
      conversation_id: conversationId,
    } as typeof params);
    expect((second as unknown as { wisp: WispExtension }).wisp.conversation_id).toBe(conversationId);
  });
});
