import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressPolicy } from './address-policy.js';
import { guardedFetch, refusalIn } from './guarded-fetch.js';

describe('guardedFetch', () => {
  let server: Server;
  let base: string;
  const reached: string[] = [];
  beforeAll(async () => {
    // An allowed host that answers every request with a redirect to a literal address the policy refuses.
    server = createServer((req, res) => {
      reached.push(req.url ?? '');
      res.writeHead(307, { location: 'http://127.0.0.2:9/latest/meta-data' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const policy = addressPolicy({ allowPrivate: false, allowList: '127.0.0.1' });

  it('refuses a literal address the policy refuses, before sending anything', async () => {
    const error = await guardedFetch(policy)('http://127.0.0.2:9/').catch((e: unknown) => e);
    expect(refusalIn(error)?.message).toContain('127.0.0.2');
  });

  it('answers a redirect with the 3xx itself, and never goes where it points', async () => {
    const response = await guardedFetch(policy)(`${base}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe('http://127.0.0.2:9/latest/meta-data');
    expect(reached).toEqual(['/v1/embeddings']);
  });

  it("keeps a caller's redirect: 'error'", async () => {
    const error = await guardedFetch(policy)(`${base}/`, { redirect: 'error' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
  });
});
