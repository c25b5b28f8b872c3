import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chooseLogFormat, createLogger } from './logger.js';
import { ServerProcess } from './test/server-process.js';
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

  it('writes one lean line per request: method, url, status, time and request id, no headers', async () => {
    await org.api.get('/api/v1/chatbots', { 'x-request-id': 'lean-line', 'user-agent': 'x'.repeat(500) });
    const [line] = await linesOf('lean-line');
    expect(Object.keys(line!).sort()).toEqual([
      'hostname',
      'level',
      'msg',
      'pid',
      'req',
      'res',
      'responseTime',
      'time',
    ]);
    expect(line!.req).toEqual({ id: 'lean-line', method: 'GET', url: '/api/v1/chatbots' });
    expect(line!.res).toEqual({ statusCode: 200 });
    expect(JSON.stringify(line).length).toBeLessThan(300);
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

describe('log format', () => {
  it('is readable on a terminal in development and JSON in production, in pipes, or when LOG_FORMAT says so', () => {
    expect(chooseLogFormat('auto', 'development', true)).toBe('pretty');
    expect(chooseLogFormat('auto', 'development', false)).toBe('json');
    expect(chooseLogFormat('auto', 'production', true)).toBe('json');
    expect(chooseLogFormat('json', 'development', true)).toBe('json');
    expect(chooseLogFormat('pretty', 'production', false)).toBe('pretty');
  });
});

describe('starting the server with readable logs', () => {
  const ROOT = fileURLToPath(new URL('../', import.meta.url));
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-logging-'));
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/wisp_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    server = new ServerProcess(
      {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_FORMAT: 'pretty',
        MONGODB_URI: uri.toString(),
        DATA_DIR: dataDir,
        SECRET_KEY: 'logging-test-secret-key-logging-test-secret',
      },
      ROOT,
    );
  });
  afterAll(async () => {
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the demo page and API reference URLs, then one short line per request', async () => {
    const [, base] = await server.waitForOutput(/API reference: (http:\/\/\S+)\/docs\b/, 60_000);
    expect(server.stdout).toContain(`Demo page: ${base}/`);
    expect(server.stdout).toContain(`Wisp is listening on ${base}`);
    // There is no console yet, so none is announced.
    expect(server.stdout).not.toContain('/console');
    const res = await fetch(`${base}/api/v1/chatbots`, { headers: { 'x-request-id': 'pretty-line' } });
    expect(res.status).toBe(401);
    const [requestLine] = await server.waitForOutput(/^.*GET \/api\/v1\/chatbots 401 \d+ms \(pretty-line\).*$/m);
    expect(requestLine.length).toBeLessThan(200);
    // Readable, not JSON.
    expect(server.stdout.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    server.child.kill('SIGTERM');
    expect((await server.exit(20_000)).code).toBe(0);
  });
});
