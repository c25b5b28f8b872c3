import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { openAiClient, refusal, type ApiError } from './test/openai-client.js';

const QUOTA = 1_000;

describe("the OpenAI-compatible endpoint's errors, in OpenAI's shape", () => {
  let t: TestApp;
  let org: TestOrg;
  let client: OpenAI;

  beforeAll(async () => {
    t = await startTestApp({ env: { MONTHLY_MESSAGE_QUOTA: String(QUOTA) } });
    org = await t.createOrg('OpenAI errors');
    await org.api.post('/api/v1/chatbots', { name: 'Outdoor shop', slug: 'outdoor' });
    client = openAiClient(t.url, org.adminKey);
  });
  afterAll(() => t.stop());

  it("answers errors in OpenAI's shape, naming the field", async () => {
    const unknown = await refusal(
      client.chat.completions.create({
        model: 'outdoor',
        messages: [{ role: 'user', content: 'hi' }],
        temprature: 1,
      } as never),
    );
    expect(unknown).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(unknown.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'temprature',
      code: 'unknown_parameter',
      message: expect.stringContaining('temprature'),
    });

    const several = await refusal(
      client.chat.completions.create({ model: 'outdoor', messages: [{ role: 'user', content: 'hi' }], n: 2 }),
    );
    expect(several.error).toMatchObject({ param: 'n', code: 'unsupported_value' });

    const noQuestion = await refusal(
      client.chat.completions.create({ model: 'outdoor', messages: [{ role: 'assistant', content: 'hi' }] }),
    );
    expect(noQuestion.status).toBe(422);
    expect(noQuestion.error).toMatchObject({ param: 'messages.0' });

    const image = await refusal(
      client.chat.completions.create({
        model: 'outdoor',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      }),
    );
    expect(image.error).toMatchObject({ param: 'messages.0.content.0', code: 'unsupported_content' });

    const model = await refusal(
      client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(model).toBeInstanceOf(OpenAI.NotFoundError);
    expect(model.error).toMatchObject({
      param: 'model',
      code: 'model_not_found',
    });

    const badKey = openAiClient(t.url, 'sk_live_nope');
    const unauthorized = await refusal(badKey.models.list());
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthorized.error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_api_key',
    });

    const notJson = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: '{"model": ',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null },
    });
  });

  it('refuses a key without the chat scope', async () => {
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    const scoped = openAiClient(t.url, reader.key!);
    const error = await refusal(scoped.models.list());
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("counts turns in the organization's monthly quota and refuses past it with insufficient_quota", async () => {
    const spender = await t.createOrg('Spender');
    await spender.api.post('/api/v1/chatbots', { name: 'Spend', slug: 'spend' });
    const spending = openAiClient(t.url, spender.adminKey);
    await spending.chat.completions.create({ model: 'spend', messages: [{ role: 'user', content: 'one' }] });
    const usage = await spender.api.get<{ messages: { used: number } }>('/api/v1/usage');
    expect(usage.body.data.messages.used).toBe(1);

    await t.app.services.usage.increment(spender.id, { messages: QUOTA });
    const refused = await refusal(
      spending.chat.completions.create({ model: 'spend', messages: [{ role: 'user', content: 'two' }] }),
    );
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('the OpenAI-compatible endpoint under a rate limit', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_FREE_PER_SECOND: '1', RATE_LIMIT_FREE_PER_MINUTE: '100' } });
    org = await t.createOrg('Limited door');
  });
  afterAll(() => t.stop());

  it("answers 429 in OpenAI's shape with Retry-After, which the openai client waits out", async () => {
    const impatient = openAiClient(t.url, org.adminKey);
    const outcomes = await Promise.allSettled([impatient.models.list(), impatient.models.list()]);
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused).toBeDefined();
    const error = (refused as PromiseRejectedResult).reason as ApiError;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);

    const patient = openAiClient(t.url, org.adminKey, 3);
    const lists = await Promise.all([patient.models.list(), patient.models.list()]);
    expect(lists.map((list) => list.object)).toEqual(['list', 'list']);
  });
});
