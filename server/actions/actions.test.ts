import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeShop, type FakeShop } from '../test/fake-shop.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

interface ActionBody {
  id: string;
  requiresConfirmation: boolean;
  auth: { type: string; headerName: string | null };
}
interface RunBody {
  runId: string;
  status: string;
  httpStatus: number | null;
  result: unknown;
  error: string | null;
}

describe('actions (HTTP tools)', () => {
  let shop: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let identitySecret: string;

  beforeAll(async () => {
    shop = await startFakeShop();
    // Only the fake shop's loopback address is allowed: every other private address stays refused.
    t = await startTestApp({ env: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1' } });
    org = await t.createOrg();
    const bot = await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Shop' });
    botId = bot.body.data.id;
    identitySecret = bot.body.data.identitySecret;
  });
  beforeEach(() => shop.reset());
  afterAll(async () => {
    await t.stop();
    await shop.stop();
  });

  const userToken = (claims: Record<string, unknown>) => signUserToken(identitySecret, claims);

  const orderStatus = (overrides: Record<string, unknown> = {}) => ({
    name: `order_status_${Math.random().toString(36).slice(2, 8)}`,
    description: 'Status of one of the customer’s orders',
    parameters: {
      type: 'object',
      properties: { orderNumber: { type: 'string', maxLength: 40 } },
      required: ['orderNumber'],
      additionalProperties: false,
    },
    request: {
      method: 'GET',
      url: `${shop.url}/api/orders/{params.orderNumber}`,
      query: { email: '{user.email}' },
    },
    auth: { type: 'bearer', token: 'shop-secret-token' },
    requiresUser: true,
    responseFields: ['status', 'trackingUrl'],
    ...overrides,
  });
  const create = (body: Record<string, unknown>) => org.api.post<ActionBody>(`/api/v1/chatbots/${botId}/actions`, body);
  const run = (id: string, body: Record<string, unknown>) => org.api.post<RunBody>(`/api/v1/actions/${id}/run`, body);

  it('saves an action, never returns its secret, and defaults confirmation by method', async () => {
    const get = await create(orderStatus());
    expect(get.status).toBe(201);
    expect(get.body.data.requiresConfirmation).toBe(false);
    expect(get.body.data.auth).toEqual({ type: 'bearer', headerName: null });
    expect(JSON.stringify(get.body)).not.toContain('shop-secret-token');
    const stored = await t.app.models.Action.findById(get.body.data.id).lean();
    expect(JSON.stringify(stored)).not.toContain('shop-secret-token');

    const post = await create(
      orderStatus({ request: { method: 'POST', url: `${shop.url}/api/orders/{params.orderNumber}/cancel` } }),
    );
    expect(post.body.data.requiresConfirmation).toBe(true);

    const listed = await org.api.get<ActionBody[]>(`/api/v1/chatbots/${botId}/actions`);
    expect(listed.body.data.map((a) => a.id)).toEqual(expect.arrayContaining([get.body.data.id, post.body.data.id]));
    const patched = await org.api.patch<ActionBody>(`/api/v1/actions/${post.body.data.id}`, {
      requiresConfirmation: false,
    });
    expect(patched.body.data.requiresConfirmation).toBe(false);
    expect((await org.api.delete(`/api/v1/actions/${post.body.data.id}`)).status).toBe(200);
    expect((await org.api.get(`/api/v1/actions/${post.body.data.id}`)).status).toBe(404);
  });

  it('refuses bad schemas, templated hosts and headers, undeclared placeholders and private hosts with 422', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ parameters: { type: 'string' } }, 'parameters.type'],
      [{ parameters: { type: 'object', properties: { a: { type: 'nope' } } } }, 'parameters'],
      [{ request: { method: 'GET', url: 'https://{params.orderNumber}.example.com/x' } }, 'host is fixed'],
      [{ request: { method: 'GET', url: `${shop.url}/x?q={params.orderNumber}` } }, 'request.query'],
      [{ request: { method: 'GET', url: `${shop.url}/x/{params.other}` } }, '{params.other}'],
      [
        { request: { method: 'GET', url: `${shop.url}/x`, headers: { 'X-Order': '{params.orderNumber}' } } },
        'headers are fixed',
      ],
      [{ request: { method: 'GET', url: `${shop.url}/x`, headers: { 'X-A': 'a\r\nX-B: b' } } }, 'request.headers'],
      [{ request: { method: 'GET', url: 'http://169.254.169.254/latest/{params.orderNumber}' } }, '169.254.169.254'],
      [{ request: { method: 'GET', url: 'http://10.0.0.7/orders/{params.orderNumber}' } }, '10.0.0.7'],
    ];
    for (const [overrides, expected] of cases) {
      const res = await create(orderStatus(overrides));
      expect(res.status, expected).toBe(422);
      expect(JSON.stringify(res.body.error), expected).toContain(expected);
    }
    const name = 'same_name';
    expect((await create(orderStatus({ name }))).status).toBe(201);
    expect((await create(orderStatus({ name }))).status).toBe(409);
  });

  it('runs an order lookup for the identified visitor: their email, the bearer secret, only the chosen fields', async () => {
    const action = await create(orderStatus());
    const res = await run(action.body.data.id, {
      parameters: { orderNumber: '1001' },
      userToken: await userToken({ sub: 'cust-1', email: 'Ada@Example.com' }),
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: 'succeeded',
      httpStatus: 200,
      result: { status: 'shipped', trackingUrl: 'https://track.example.com/XYZ' },
    });
    expect(JSON.stringify(res.body)).not.toContain('internalNote');
    expect(shop.requests).toHaveLength(1);
    expect(shop.requests[0]).toMatchObject({ method: 'GET', target: '/api/orders/1001?email=ada%40example.com' });
    expect(shop.requests[0]!.headers.authorization).toBe('Bearer shop-secret-token');

    const runs = await org.api.get<Array<{ source: string; status: string; durationMs: number }>>(
      `/api/v1/actions/${action.body.data.id}/runs`,
    );
    expect(runs.body.data).toEqual([expect.objectContaining({ source: 'api', status: 'succeeded' })]);
    expect(JSON.stringify(runs.body)).not.toContain('shop-secret-token');
  });

  it('refuses a visitor who is not identified (401) and arguments that fail the schema (422), without calling out', async () => {
    const action = await create(orderStatus());
    const anonymous = await run(action.body.data.id, { parameters: { orderNumber: '1001' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error?.message).toContain('userToken');
    const wrong = await run(action.body.data.id, {
      parameters: { orderNumber: 42 },
      userToken: await userToken({ sub: 'cust-1', email: 'a@example.com' }),
    });
    expect(wrong.status).toBe(422);
    expect(JSON.stringify(wrong.body.error?.details)).toContain('parameters.orderNumber');
    expect(shop.requests).toHaveLength(0);
    const runs = await org.api.get<Array<{ status: string }>>(`/api/v1/actions/${action.body.data.id}/runs`);
    expect(runs.body.data.map((r) => r.status)).toEqual(['refused', 'refused']);
  });

  it('keeps injected values inside their path segment, query value and body field', async () => {
    const action = await create(
      orderStatus({
        requiresUser: false,
        request: {
          method: 'POST',
          url: `${shop.url}/api/orders/{params.orderNumber}`,
          query: { note: 'n-{params.orderNumber}' },
          body: { order: '{params.orderNumber}', text: 'order {params.orderNumber}' },
        },
      }),
    );
    const id = action.body.data.id;
    const sneaky = '1/../../admin?x=1#frag\r\nX-Evil: 1';
    const res = await run(id, { parameters: { orderNumber: sneaky } });
    expect(res.body.data.status).toBe('succeeded');
    const [request] = shop.requests;
    expect(request!.target.split('?')[0]).toBe(`/api/orders/${encodeURIComponent(sneaky)}`);
    expect(new URL(`http://x${request!.target}`).searchParams.get('note')).toBe(`n-${sneaky}`);
    expect([...new URL(`http://x${request!.target}`).searchParams.keys()]).toEqual(['note']);
    expect(JSON.parse(request!.body)).toEqual({ order: sneaky, text: `order ${sneaky}` });
    expect(request!.headers['x-evil']).toBeUndefined();

    for (const segment of ['..', '.']) {
      const dots = await run(id, { parameters: { orderNumber: segment } });
      expect(dots.body.data).toMatchObject({ status: 'refused' });
    }
    expect(shop.requests).toHaveLength(1);
  });

  it('reports failures of the connected system as a failed run: HTTP errors, redirects, oversized answers', async () => {
    const action = await create(
      orderStatus({
        requiresUser: false,
        request: { method: 'GET', url: `${shop.url}/api/orders/{params.orderNumber}` },
        maxResponseBytes: 1024,
      }),
    );
    const id = action.body.data.id;
    shop.answer('/api/orders/404', 404, { error: 'not found' });
    shop.answer('/api/orders/301', 301, '', { location: 'http://169.254.169.254/' });
    shop.answer('/api/orders/big', 200, { blob: 'x'.repeat(5_000) });
    const notFound = await run(id, { parameters: { orderNumber: '404' } });
    expect(notFound.body.data).toMatchObject({ status: 'failed', httpStatus: 404 });
    const redirect = await run(id, { parameters: { orderNumber: '301' } });
    expect(redirect.body.data).toMatchObject({ status: 'failed', httpStatus: 301 });
    expect(redirect.body.data.error).toContain('redirects are not followed');
    const big = await run(id, { parameters: { orderNumber: 'big' } });
    expect(big.body.data).toMatchObject({ status: 'failed' });
    expect(big.body.data.error).toContain('maxResponseBytes');
  });

  it('needs actions:write to change and actions:run to run', async () => {
    const action = await create(
      orderStatus({
        requiresUser: false,
        request: { method: 'GET', url: `${shop.url}/api/orders/{params.orderNumber}` },
      }),
    );
    const runner = await t.clientWithScopes(org, ['actions:run']);
    expect((await runner.post(`/api/v1/chatbots/${botId}/actions`, orderStatus())).status).toBe(403);
    const ran = await runner.post<RunBody>(`/api/v1/actions/${action.body.data.id}/run`, {
      parameters: { orderNumber: '7' },
    });
    expect(ran.body.data.status).toBe('succeeded');
    const writer = await t.clientWithScopes(org, ['actions:write']);
    expect((await writer.post(`/api/v1/actions/${action.body.data.id}/run`, { parameters: {} })).status).toBe(403);
  });
});
