import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

const HOUR = 3600;
const now = () => Math.floor(Date.now() / 1000);

/** Signs exactly the claims given (none are added), like a site owner's backend would. */
const sign = (secret: string, claims: JWTPayload) => signUserToken(secret, { sub: 'user-1', ...claims }, null);

describe('end-user tokens', () => {
  let t: TestApp;
  let org: TestOrg;
  let bot: { id: string; identitySecret: string };

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg();
    bot = (await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Identified' })).body
      .data;
  });
  afterAll(() => t.stop());

  const chatAs = async (claims: JWTPayload) =>
    org.api.post('/api/v1/chat', {
      chatbotId: bot.id,
      message: 'Who am I?',
      userToken: await sign(bot.identitySecret, claims),
    });

  const refusedWith = async (claims: JWTPayload, text: string) => {
    const res = await chatAs(claims);
    expect(res.status).toBe(401);
    expect(res.body.error?.name).toBe('UnauthorizedError');
    expect(res.body.error?.message).toContain(text);
  };

  it('accepts a token issued now that expires within 24 hours', async () => {
    expect((await chatAs({ iat: now(), exp: now() + HOUR })).status).toBe(200);
    expect((await chatAs({ iat: now(), exp: now() + 24 * HOUR })).status).toBe(200);
    expect((await chatAs({ exp: now() + HOUR })).status).toBe(200);
  });

  it('refuses a token without exp, saying it must carry one', async () => {
    await refusedWith({ iat: now() }, 'must carry an `exp` claim');
    await refusedWith({}, 'must carry an `exp` claim');
  });

  it('refuses a token that lives longer than 24 hours, by exp - iat or, without iat, by exp - now', async () => {
    await refusedWith({ iat: now(), exp: now() + 25 * HOUR }, 'lives too long: `exp - iat` is 90000 seconds');
    await refusedWith({ iat: now() - 3 * 365 * 24 * HOUR, exp: now() + HOUR }, 'the limit is 86400 seconds');
    await refusedWith({ exp: now() + 25 * HOUR }, 'lives too long: `exp` minus now');
  });

  it('refuses an expired token, allowing 60 seconds of clock skew', async () => {
    expect((await chatAs({ iat: now() - HOUR, exp: now() - 30 })).status).toBe(200);
    await refusedWith({ iat: now() - HOUR, exp: now() - 5 * 60 }, 'has expired');
  });

  it('refuses a token issued in the future, allowing 60 seconds of clock skew', async () => {
    expect((await chatAs({ iat: now() + 30, exp: now() + HOUR })).status).toBe(200);
    await refusedWith({ iat: now() + 5 * 60, exp: now() + HOUR }, 'was issued in the future (its `iat`');
  });

  it('refuses a token not valid yet by nbf, allowing 60 seconds of clock skew', async () => {
    expect((await chatAs({ nbf: now() + 30, exp: now() + HOUR })).status).toBe(200);
    await refusedWith({ nbf: now() + 5 * 60, exp: now() + HOUR }, 'is not valid yet (its `nbf`');
  });

  it('refuses claims that are not numbers of seconds', async () => {
    await refusedWith({ exp: 'tomorrow' as unknown as number }, 'invalid `exp` claim');
    await refusedWith({ iat: 'now' as unknown as number, exp: now() + HOUR }, 'invalid `iat` claim');
  });

  it('refuses a long-lived token at the widget handshake too', async () => {
    const userToken = await sign(bot.identitySecret, { iat: now(), exp: now() + 30 * 24 * HOUR });
    const socket = io(`${t.url}/widget`, {
      transports: ['websocket'],
      auth: { bot: bot.id, visitorId: `v_${randomUUID()}`, userToken },
      reconnection: false,
    });
    const refusal = await new Promise<Error & { data?: { name?: string } }>((resolve, reject) => {
      socket.once('connect_error', resolve);
      socket.once('session', () => reject(new Error('the handshake was accepted')));
    });
    socket.disconnect();
    expect(refusal.data?.name).toBe('UnauthorizedError');
    expect(refusal.message).toContain('lives too long');
  });
});

describe('end-user token lifetime setting', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { END_USER_TOKEN_MAX_LIFETIME_MS: '600000' } });
  });
  afterAll(() => t.stop());

  it('caps the lifetime at END_USER_TOKEN_MAX_LIFETIME_MS', async () => {
    const org = await t.createOrg();
    const bot = (await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Short' })).body
      .data;
    const chat = async (exp: number) =>
      org.api.post('/api/v1/chat', {
        chatbotId: bot.id,
        message: 'Hi',
        userToken: await sign(bot.identitySecret, { iat: now(), exp }),
      });
    expect((await chat(now() + 5 * 60)).status).toBe(200);
    const refused = await chat(now() + HOUR);
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toContain('the limit is 600 seconds');
  });
});
