import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

const run = promisify(execFile);
// `scripts/setup.sh` installs the `openai` PyPI package.
const CLIENT = path.join(import.meta.dirname, 'test', 'openai_client.py');

describe('the OpenAI-compatible endpoint, through the official openai Python package', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat' },
    });
    org = await t.createOrg('Python client');
    await org.api.post('/api/v1/chatbots', { name: 'Python helper', slug: 'py-helper' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('lists models, answers JSON and a stream, and refuses an unknown field in OpenAI’s shape', async () => {
    const { stdout } = await run('python3', [CLIENT], {
      env: { ...process.env, WISP_BASE_URL: `${t.url}/v1`, WISP_API_KEY: org.adminKey, WISP_MODEL: 'py-helper' },
      timeout: 60_000,
    });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen).toMatchObject({
      models: ['py-helper'],
      content: 'Echo: python json',
      usage: expect.any(Number),
      conversation_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      confidence: expect.any(Number),
      streamed: 'Echo: python stream',
      finish_reason: 'stop',
      stream_usage: expect.any(Number),
      unknown_field: {
        status: 422,
        body: { type: 'invalid_request_error', param: 'colour', code: 'unknown_parameter' },
      },
    });
    // The stream continued the conversation the JSON answer started (the conversation_id extension).
    expect(seen.stream_conversation_id).toBe(seen.conversation_id);
  });
});
