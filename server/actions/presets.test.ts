import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeShop, type FakeShop } from '../test/fake-shop.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

interface RunBody {
  status: string;
  result: unknown;
}

describe('vendor action presets against loopback fakes', () => {
  let vendor: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let identitySecret: string;

  beforeAll(async () => {
    vendor = await startFakeShop();
    t = await startTestApp({ env: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1' } });
    org = await t.createOrg();
    const bot = await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Vendors' });
    botId = bot.body.data.id;
    identitySecret = bot.body.data.identitySecret;
  });
  beforeEach(() => vendor.reset());
  afterAll(async () => {
    await t.stop();
    await vendor.stop();
  });

  const userToken = () => signUserToken(identitySecret, { sub: 'cus_123', email: 'ada@example.com' });
  const fromPreset = async (body: Record<string, unknown>) => {
    const res = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions/presets`, body);
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain('secret-');
    return res.body.data.id;
  };

  it('Shopify: finds the identified customer’s order by number and email, with the admin token header', async () => {
    const id = await fromPreset({ preset: 'shopify_order_status', baseUrl: vendor.url, accessToken: 'secret-shpat' });
    vendor.answer('/admin/api/2024-10/orders.json', 200, {
      orders: [
        {
          name: '#1001',
          financial_status: 'paid',
          fulfillment_status: 'fulfilled',
          order_status_url: 'https://s/1',
          email: 'ada@example.com',
        },
      ],
    });
    const res = await org.api.post<RunBody>(`/api/v1/actions/${id}/run`, {
      parameters: { orderNumber: '1001' },
      userToken: await userToken(),
    });
    expect(res.body.data).toMatchObject({
      status: 'succeeded',
      result: {
        'orders.0.name': '#1001',
        'orders.0.financial_status': 'paid',
        'orders.0.fulfillment_status': 'fulfilled',
      },
    });
    expect(vendor.requests[0]!.target).toBe(
      '/admin/api/2024-10/orders.json?name=%231001&email=ada%40example.com&status=any&limit=1',
    );
    expect(vendor.requests[0]!.headers['x-shopify-access-token']).toBe('secret-shpat');
  });

  it('Stripe: the subscription status of the identified customer, with the secret key as bearer', async () => {
    const id = await fromPreset({ preset: 'stripe_subscription_status', baseUrl: vendor.url, secretKey: 'secret-sk' });
    vendor.answer('/v1/subscriptions', 200, {
      data: [{ status: 'active', current_period_end: 1_800_000_000, cancel_at_period_end: false }],
    });
    const res = await org.api.post<RunBody>(`/api/v1/actions/${id}/run`, {
      parameters: {},
      userToken: await userToken(),
    });
    expect(res.body.data.result).toEqual({
      'data.0.status': 'active',
      'data.0.current_period_end': 1_800_000_000,
      'data.0.cancel_at_period_end': false,
    });
    expect(vendor.requests[0]!.target).toBe('/v1/subscriptions?customer=cus_123&status=all&limit=1');
    expect(vendor.requests[0]!.headers.authorization).toBe('Bearer secret-sk');
  });

  it('Calendly: creates a single-use scheduling link for the event type', async () => {
    const eventType = 'https://api.calendly.com/event_types/AAAA';
    const id = await fromPreset({
      preset: 'calendly_scheduling_link',
      baseUrl: vendor.url,
      accessToken: 'secret-cal',
      eventType,
    });
    vendor.answer('/scheduling_links', 201, {
      resource: { booking_url: 'https://calendly.com/d/abc', owner: eventType },
    });
    const res = await org.api.post<RunBody>(`/api/v1/actions/${id}/run`, { parameters: {} });
    expect(res.body.data.result).toEqual({ 'resource.booking_url': 'https://calendly.com/d/abc' });
    expect(vendor.requests[0]).toMatchObject({ method: 'POST', target: '/scheduling_links' });
    expect(JSON.parse(vendor.requests[0]!.body)).toEqual({
      max_event_count: 1,
      owner: eventType,
      owner_type: 'EventType',
    });
  });
});
