import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { startTestApp, type TestApp, type TestOrg } from './test/test-app.js';

interface LogLine {
  level: number;
  msg: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
}

describe('request logging', () => {
  const written: string[] = [];
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    // The production logger (with its redaction), writing into memory instead of stdout.
    const logger = createLogger('info', { write: (line: string) => void written.push(line) });
    t = await startTestApp({ logger });
    org = await t.createOrg('Logging');
  });
  afterAll(async () => {
    await t.stop();
  });

  /** The log lines of one request, waiting briefly: the line is written when the response finishes. */
  async function linesOf(requestId: string): Promise<LogLine[]> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const lines = written.map((line) => JSON.parse(line) as LogLine).filter((line) => line.req?.id === requestId);
      if (lines.length > 0) return lines;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no log line for request ${requestId}`);
  }

  it('gives each request an id, returns it as X-Request-Id and puts it on the request log line', async () => {
    const res = await org.api.get('/api/v1/chatbots');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [line] = await linesOf(id!);
    expect(line).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/api/v1/chatbots' } });
    expect(line?.res?.statusCode).toBe(200);
  });

  it('keeps a well-formed X-Request-Id sent by the caller and replaces a malformed one', async () => {
    const kept = await org.api.get('/api/v1/chatbots', { 'x-request-id': 'edge-proxy.42_a' });
    expect(kept.headers.get('x-request-id')).toBe('edge-proxy.42_a');
    expect(await linesOf('edge-proxy.42_a')).toHaveLength(1);

    const replaced = await org.api.get('/api/v1/chatbots', { 'x-request-id': 'bad id\twith spaces' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never writes an Authorization header or a newly created key to the log', async () => {
    const created = await org.api.post<{ key: string }>(
      '/api/v1/api-keys',
      { name: 'Logged?', scopes: ['chat'] },
      { 'x-request-id': 'create-key' },
    );
    expect(created.status).toBe(201);
    const rejected = await org.api.get('/api/v1/chatbots', {
      authorization: 'Bearer sk_live_notarealkeynotarealkeynotarealkey00',
      'x-request-id': 'bad-key',
    });
    expect(rejected.status).toBe(401);
    await linesOf('create-key');
    await linesOf('bad-key');

    const log = written.join('');
    expect(log).not.toContain(org.adminKey);
    expect(log).not.toContain(created.body.data.key);
    expect(log).not.toContain('notarealkey');
    expect(log.toLowerCase()).not.toContain('bearer');
  });
});
