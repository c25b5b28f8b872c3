import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { errorHandler } from './error-handler.js';
import { DEFAULT_RATE_LIMITS, ipRateLimit } from './rate-limits.js';
import { sendSharedData } from './respond.js';
import { WindowCounter } from './window-counter.js';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function answerOf(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const body = await res.text();
  const headers = Object.fromEntries(res.headers);
  delete headers.date;
  return { status: res.status, headers, body };
}

describe('a shared value sent serialized once', () => {
  it('answers what res.json answers: the bytes, the headers, 304 to a matching If-None-Match, no body for HEAD', async () => {
    const data = { id: 'b1', name: 'Bot "one"', tags: ['ä', '✓'], nested: { n: 1.5, none: null } };
    const withJson = express().get('/thing', (_req, res) => void res.json({ success: true, data, error: null }));
    const shared = express().get('/thing', (_req, res) => sendSharedData(res, data));
    const [jsonUrl, sharedUrl] = await Promise.all([listen(withJson), listen(shared)]);

    const expected = await answerOf(`${jsonUrl}/thing`);
    expect(expected.headers.etag).toBeDefined();
    // Twice: the first serializes, the second answers the kept bytes.
    expect(await answerOf(`${sharedUrl}/thing`)).toEqual(expected);
    expect(await answerOf(`${sharedUrl}/thing`)).toEqual(expected);
    for (const init of [{ headers: { 'if-none-match': expected.headers.etag! } }, { method: 'HEAD' }]) {
      expect(await answerOf(`${sharedUrl}/thing`, init)).toEqual(await answerOf(`${jsonUrl}/thing`, init));
    }
  });
});

describe('rate-limit headers', () => {
  it("are the ones express-rate-limit's own draft-8 option writes, on counted requests and on the refusal", async () => {
    const limit = 2;
    const errors = errorHandler(createLogger('silent'));
    const appWith = (limiter: express.RequestHandler) =>
      express()
        .use(limiter)
        .get('/thing', (_req, res) => void res.json({ ok: true }))
        .use(errors);
    const ours = await listen(appWith(ipRateLimit({ ...DEFAULT_RATE_LIMITS, publicPerMinute: limit }, 'public')));
    const library = await listen(
      appWith(
        rateLimit({
          windowMs: 60_000,
          limit,
          standardHeaders: 'draft-8',
          legacyHeaders: false,
          identifier: `public-${limit}-in-60s`,
          keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
          store: new WindowCounter(),
        }),
      ),
    );
    // `t=` counts the seconds left in each window, which each server started at its own first request.
    const headersOf = async (url: string) => {
      const { status, headers } = await answerOf(`${url}/thing`);
      return { status, ratelimit: headers.ratelimit?.replace(/; t=\d+/, '; t=…'), policy: headers['ratelimit-policy'] };
    };
    for (const status of [200, 200, 429]) {
      const expected = await headersOf(library);
      expect(expected.status).toBe(status);
      expect(expected.policy).toMatch(/pk=:[A-Za-z0-9+/=]+:/);
      expect(await headersOf(ours)).toEqual(expected);
    }
  });
});
