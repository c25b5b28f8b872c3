import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

interface Accepted {
  conversationId: string;
  messageId: string;
  userMessageId: string;
}

// The turn writes its conversation and messages through the driver, with the schema's defaults filled in by
// mongoose: what is stored must be what mongoose itself would have written and read.
describe('the records a chat turn stores', () => {
  let t: TestApp;
  let org: TestOrg;
  let bot: { id: string; identitySecret: string };

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg();
    bot = (await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Records' })).body
      .data;
  });
  afterAll(() => t.stop());

  const chat = async (body: Record<string, unknown>) => {
    const res = await org.api.post<Accepted>('/api/v1/chat', { chatbotId: bot.id, ...body });
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const stored = (collection: string, id: string) =>
    t.connection.collection(collection).findOne({ _id: new Types.ObjectId(id) });
  const signed = (claims: Record<string, unknown>) => signUserToken(bot.identitySecret, claims, '1h');

  it('hold every default of their schemas, as mongoose reads them back', async () => {
    const turn = await chat({ message: 'Where is my parcel?' });
    const records = [
      ['conversations', 'Conversation', turn.conversationId],
      ['messages', 'Message', turn.userMessageId],
      ['messages', 'Message', turn.messageId],
    ] as const;
    for (const [collection, model, id] of records) {
      const raw = await stored(collection, id);
      expect(raw, `${collection} ${id}`).not.toBeNull();
      // Hydrating fills in any default the stored record lacks: none may be missing.
      expect(raw).toStrictEqual(t.connection.model(model).hydrate(raw).toObject());
    }
    const conversation = await stored('conversations', turn.conversationId);
    expect(conversation).toMatchObject({ __v: 0, messageCount: 2, leadId: null, metadata: {} });
    expect(conversation!.createdAt).toBeInstanceOf(Date);
  });

  it('keep a session’s conversation, its creation time, and take its identified user’s details once given', async () => {
    const first = await chat({ message: 'Hello there, one', sessionId: 'records-1' });
    const before = await stored('conversations', first.conversationId);
    const userToken = await signed({ sub: 'user-7', name: 'Ada', email: 'Ada@Example.com' });
    const second = await chat({ message: 'Hello there, two', sessionId: 'records-1', userToken });
    expect(second.conversationId).toBe(first.conversationId);
    const after = await stored('conversations', first.conversationId);
    expect(after!.createdAt).toEqual(before!.createdAt);
    expect(after!.updatedAt.getTime()).toBeGreaterThanOrEqual(before!.updatedAt.getTime());
    expect(after!.user).toEqual({ sub: 'user-7', name: 'Ada', email: 'ada@example.com' });
    // A later token without a name keeps the name given before, by session or by the conversation's id.
    await chat({ message: 'Hello there, three', sessionId: 'records-1', userToken: await signed({ sub: 'user-7' }) });
    const listed = await org.api.get<{ user: unknown }>(`/api/v1/conversations/${first.conversationId}`);
    expect(listed.body.data.user).toEqual({ sub: 'user-7', name: 'Ada', email: 'ada@example.com' });
    const byId = await chat({
      message: 'Hello there, four',
      conversationId: first.conversationId,
      userToken: await signed({ sub: 'user-7', email: 'ada@example.org' }),
    });
    expect(byId.conversationId).toBe(first.conversationId);
    const last = await stored('conversations', first.conversationId);
    expect(last!.user).toEqual({ sub: 'user-7', name: 'Ada', email: 'ada@example.org' });
    expect(last!.messageCount).toBe(8);
    expect(last).toStrictEqual(t.connection.model('Conversation').hydrate(last).toObject());
  });
});
