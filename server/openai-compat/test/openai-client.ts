import OpenAI from 'openai';
import { expect } from 'vitest';

export type ApiError = InstanceType<typeof OpenAI.APIError>;

/** OpenAI's Node client pointed at a Wisp server's OpenAI-compatible door (no retries unless asked). */
export function openAiClient(serverUrl: string, apiKey: string, maxRetries = 0): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${serverUrl}/v1`, maxRetries });
}

/** The error a request failed with; a request that succeeded fails the test. */
export async function refusal(request: Promise<unknown>): Promise<ApiError> {
  const outcome = await request.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value).slice(0, 200)}`);
  expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
  return outcome.error as ApiError;
}
