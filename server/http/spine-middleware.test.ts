import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { openCors } from './api-cors.js';
import { ApiRouter } from './api-router.js';
import { chain, whenBody } from './chain.js';
import { errorHandler } from './error-handler.js';
import { requestLog } from './request-log.js';
import { securityHeaders } from './security-headers.js';

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

/** The response's headers without the ones that differ between any two responses. */
async function headersOf(url: string, init?: RequestInit): Promise<Record<string, string>> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  const headers = Object.fromEntries(res.headers);
  delete headers.date;
  return { status: String(res.status), ...headers };
}

function appWith(...middleware: express.RequestHandler[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(...middleware);
  app.get('/thing', (_req, res) => void res.json({ ok: true }));
  return app;
}

describe('security headers', () => {
  it('are exactly the headers helmet sets, for a GET and a preflight', async () => {
    const options = { crossOriginResourcePolicy: { policy: 'cross-origin' as const } };
    const withHelmet = await listen(appWith(helmet(options)));
    const recorded = await listen(appWith(securityHeaders(options)));
    expect((await headersOf(`${withHelmet}/thing`))['content-security-policy']).toContain("default-src 'self'");
    // A preflight and a POST fall through to Express's 404, which writes its own policy over helmet's.
    for (const init of [{}, { method: 'OPTIONS' }, { method: 'POST' }]) {
      const expected = await headersOf(`${withHelmet}/thing`, init);
      expect(await headersOf(`${recorded}/thing`, init)).toEqual(expected);
    }
  });

  it('refuses a policy computed per request, which a recording could not honour', () => {
    expect(() =>
      securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } }),
    ).toThrow(/per request/);
  });
});

describe('open CORS', () => {
  it('answers every request and preflight as the cors package does with origin *', async () => {
    const options = {
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['RateLimit', 'X-Request-Id'],
      maxAge: 600,
    };
    const withCors = await listen(appWith(cors({ origin: '*', ...options })));
    const fast = await listen(appWith(openCors(options)));
    const cases: RequestInit[] = [
      {},
      { headers: { origin: 'https://elsewhere.example' } },
      {
        method: 'OPTIONS',
        headers: {
          origin: 'https://elsewhere.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      },
      { method: 'POST', headers: { origin: 'https://elsewhere.example' } },
    ];
    for (const init of cases) {
      const expected = await headersOf(`${withCors}/thing`, init);
      expect(expected['access-control-allow-origin']).toBe('*');
      expect(await headersOf(`${fast}/thing`, init)).toEqual(expected);
    }
  });
});

describe('request log', () => {
  interface Line {
    level: number;
    msg: string;
    req?: { id: string; method: string; url: string };
    res?: { statusCode: number };
    err?: { message: string };
    responseTime?: number;
  }

  async function appLogging() {
    const written: Line[] = [];
    const logger = createLogger('info', { write: (line: string) => void written.push(JSON.parse(line) as Line) });
    const app = express();
    app.use(requestLog(logger, (url) => url === '/healthz'));
    const api = express.Router();
    api.get('/boom', () => {
      throw new Error('disk on fire');
    });
    api.get('/ok', (_req, res) => void res.json({ ok: true }));
    app.use('/api/v1', api);
    app.get('/healthz', (_req, res) => void res.json({ ok: true }));
    app.use(errorHandler(logger));
    const linesOf = async (id: string): Promise<Line[]> => {
      // Written when the response closes, just after the client has it.
      for (let attempt = 0; attempt < 100; attempt++) {
        const lines = written.filter((line) => line.req?.id === id);
        if (lines.some((line) => line.msg.startsWith('request '))) return lines;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no request line for ${id}`);
    };
    return { url: await listen(app), written, linesOf };
  }

  it('logs the URL as the client sent it, not as a mounted router saw it', async () => {
    const { url, linesOf } = await appLogging();
    await fetch(`${url}/api/v1/ok?x=1`, { headers: { 'x-request-id': 'mounted' } });
    const [line] = await linesOf('mounted');
    expect(line).toMatchObject({
      msg: 'request completed',
      level: 30,
      req: { id: 'mounted', method: 'GET', url: '/api/v1/ok?x=1' },
      res: { statusCode: 200 },
    });
    expect(typeof line?.responseTime).toBe('number');
  });

  it('logs a server fault with the request id on the error and on the request line', async () => {
    const { url, linesOf } = await appLogging();
    const res = await fetch(`${url}/api/v1/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('boom-1');
    const lines = await linesOf('boom-1');
    const fault = lines.find((line) => line.level === 50);
    expect(fault).toMatchObject({
      req: { id: 'boom-1', method: 'GET', url: '/api/v1/boom' },
      err: { message: 'disk on fire' },
    });
    expect(lines.find((line) => line.msg === 'request errored')).toMatchObject({
      res: { statusCode: 500 },
      err: { message: 'failed with status code 500' },
    });
  });

  it('writes no line for ignored paths and builds nothing when info is off', async () => {
    const { url, written } = await appLogging();
    const health = await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'health' } });
    expect(health.headers.get('x-request-id')).toBe('health');
    await fetch(`${url}/api/v1/ok`, { headers: { 'x-request-id': 'after-health' } });
    for (let attempt = 0; attempt < 100 && !written.some((l) => l.req?.id === 'after-health'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(written.filter((line) => line.req?.id === 'health')).toEqual([]);

    const quiet: string[] = [];
    const app = express();
    app.use(requestLog(createLogger('warn', { write: (line: string) => void quiet.push(line) })));
    app.get('/ok', (_req, res) => void res.json({ ok: true }));
    const quietUrl = await listen(app);
    const res = await fetch(`${quietUrl}/ok`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(quiet).toEqual([]);
  });
});

describe('chain', () => {
  it('runs its middleware in order and hands every kind of failure to the error handler', async () => {
    const app = express();
    const order: string[] = [];
    const fail =
      (kind: string | undefined): express.RequestHandler =>
      async (req, _res, next) => {
        order.push(kind ?? 'pass');
        if (req.query.fail !== kind) return next();
        if (kind === 'sync') throw new Error('thrown');
        if (kind === 'async') {
          await Promise.resolve();
          throw new Error('rejected');
        }
        next(new Error('passed'));
      };
    app.use(
      '/api',
      chain(
        (_req, _res, next) => (order.push('first'), next()),
        whenBody(express.json()),
        fail('sync'),
        fail('async'),
        fail('next'),
      ),
      (req, res) => void res.json({ body: req.body ?? null, order }),
    );
    app.use(
      ((error: Error, _req, res, _next) =>
        void res.status(500).json({ error: error.message })) as express.ErrorRequestHandler,
    );
    const url = await listen(app);

    const ok = await fetch(`${url}/api/x`);
    expect(await ok.json()).toEqual({ body: null, order: ['first', 'sync', 'async', 'next'] });
    const posted = await fetch(`${url}/api/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect((await posted.json()).body).toEqual({ a: 1 });
    for (const [kind, message] of [
      ['sync', 'thrown'],
      ['async', 'rejected'],
      ['next', 'passed'],
    ]) {
      const res = await fetch(`${url}/api/x?fail=${kind}`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: message });
    }
  });
});

describe('API router dispatch by first path segment', () => {
  it('finds routes in their order, whatever the case of the segment, and passes on what no route takes', async () => {
    const pass: express.RequestHandler = (_req, _res, next) => next();
    const api = new ApiRouter({ authenticate: pass, keyRateLimit: pass, publicRateLimit: pass, idempotency: pass });
    const route = (path: string, answer: string) =>
      api.route({ method: 'get', path, tag: 't', summary: answer, scope: 'public' }, ({ res }) => {
        res.json({ answer });
      });
    route('/things/special', 'special');
    route('/things/:id', 'by id');
    route('/others', 'others');
    const app = express();
    app.use('/api/v1', api.router);
    app.use(api.methodNotAllowed());
    app.use((_req, res) => void res.status(404).json({ answer: 'none' }));
    app.use(errorHandler(createLogger('silent')));
    const url = await listen(app);
    const answer = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${url}${path}`, init);
      return `${res.status} ${((await res.json()) as { answer?: string }).answer ?? ''}`;
    };
    expect(await answer('/api/v1/things/special')).toBe('200 special');
    expect(await answer('/api/v1/things/x1')).toBe('200 by id');
    expect(await answer('/api/v1/Things/x1/')).toBe('200 by id');
    expect(await answer('/api/v1/others?')).toBe('200 others');
    expect(await answer('/api/v1/others?a=1')).toBe('422 '); // found, and its strict query refuses `a`
    expect(await answer('/api/v1/nothing')).toBe('404 none');
    expect(await answer('/api/v1')).toBe('404 none');
    expect(await answer('/api/v1/others', { method: 'DELETE' })).toBe('405 ');
  });

  it('refuses a route whose path does not start with a literal segment', () => {
    const pass: express.RequestHandler = (_req, _res, next) => next();
    const api = new ApiRouter({ authenticate: pass, keyRateLimit: pass, publicRateLimit: pass, idempotency: pass });
    expect(() =>
      api.route({ method: 'get', path: '/:anything', tag: 't', summary: 's', scope: 'public' }, () => undefined),
    ).toThrow(/literal segment/);
  });
});
