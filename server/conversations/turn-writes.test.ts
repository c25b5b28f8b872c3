import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import type { ConversationModel, StoredConversation } from './conversation.model.js';
import type { ConversationsService } from './conversations.service.js';
import type { MessageModel } from './message.model.js';
import { TurnWrites } from './turn-writes.js';

interface Accepted {
  conversationId: string;
  messageId: string;
  userMessageId: string;
}

const lease = () => ({ leaseOwner: 'test', leaseId: new Types.ObjectId().toString(), heartbeatAt: new Date() });

// The turns of one tick write their new conversations and messages together: each must still store exactly its
// own records, and a record refused must fail its own turn only.
describe("the turn's writes grouped across turns", () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let conversations: ConversationsService;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg();
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Grouped' })).body.data.id;
    conversations = t.app.services.conversations;
  });
  afterAll(() => t.stop());

  /** Counts the collection calls made (one round trip each) while `run` runs. */
  const counting = async <R>(run: () => Promise<R>): Promise<{ result: R; calls: Map<string, number> }> => {
    const calls = new Map<string, number>();
    t.connection.set('debug', (collection: string, method: string) => {
      const key = `${collection}.${method}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
    });
    try {
      return { result: await run(), calls };
    } finally {
      t.connection.set('debug', false);
    }
  };
  const stored = (collection: string, filter: Record<string, unknown>) =>
    t.connection.collection(collection).find(filter).toArray();
  const owner = () => ({
    organizationId: new Types.ObjectId(org.id),
    chatbotId: new Types.ObjectId(botId),
    channel: 'api' as const,
  });

  it('stores, for many turns at once through HTTP, each its conversation and its two messages exactly', async () => {
    const sent = Array.from({ length: 24 }, (_, i) => `Grouped question number ${i}`);
    const turns = await Promise.all(
      sent.map((message) => org.api.post<Accepted>('/api/v1/chat', { chatbotId: botId, message })),
    );
    expect(turns.map((res) => res.status)).toEqual(sent.map(() => 200));
    const ids = turns.map((res) => res.body.data.conversationId);
    expect(new Set(ids).size).toBe(sent.length);
    for (const [i, res] of turns.entries()) {
      const conversationId = new Types.ObjectId(res.body.data.conversationId);
      const [conversation] = await stored('conversations', { _id: conversationId });
      expect(conversation).toMatchObject({ messageCount: 2, lastMessagePreview: expect.any(String) });
      const messages = await stored('messages', { conversationId });
      expect(messages).toHaveLength(2);
      const question = messages.find((m) => m.role === 'user')!;
      const answer = messages.find((m) => m.role === 'assistant')!;
      expect(question).toMatchObject({ _id: new Types.ObjectId(res.body.data.userMessageId), content: sent[i] });
      expect(answer).toMatchObject({
        _id: new Types.ObjectId(res.body.data.messageId),
        replyTo: question._id,
        status: 'complete',
      });
    }
    const bot = new Types.ObjectId(botId);
    expect(await t.connection.collection('conversations').countDocuments({ chatbotId: bot })).toBe(sent.length);
    expect(await t.connection.collection('messages').countDocuments({ chatbotId: bot })).toBe(2 * sent.length);
  });

  it('upserts the new conversations of one tick with its counters in one write, each returned exactly as stored', async () => {
    const earlier = await conversations.open(owner());
    const { result: opened, calls } = await counting(() =>
      Promise.all([
        ...Array.from({ length: 5 }, (_, i) =>
          conversations.open({ ...owner(), metadata: { order: i }, pageUrl: i % 2 ? 'https://example.com/a' : null }),
        ),
        conversations.touchAnswered(earlier._id, 'Counted with the upserts').then(() => earlier),
      ]),
    );
    expect(calls.get('conversations.bulkWrite')).toBe(1);
    expect(calls.get('conversations.findOneAndUpdate')).toBeUndefined();
    const [counted] = await stored('conversations', { _id: earlier._id });
    expect(counted).toMatchObject({ messageCount: 1, lastMessagePreview: 'Counted with the upserts' });
    opened.pop();
    for (const conversation of opened) {
      const [record] = await stored('conversations', { _id: conversation._id });
      expect(conversation).toStrictEqual(record);
    }
    // A session's conversation is still upserted and read back in one call.
    const session = await conversations.open({ ...owner(), sessionId: 'grouped-session' });
    const [record] = await stored('conversations', { _id: session._id });
    expect(session).toStrictEqual(record);
  });

  it('writes a conversation a turn starts with its first message counted, and takes the count back on demand', async () => {
    const { calls } = await counting(() =>
      org.api.post<Accepted>('/api/v1/chat', { chatbotId: botId, message: 'Counted as it is created' }),
    );
    // Created with the question counted, then the answer counted: no counters' write of the question's own.
    expect(calls.get('conversations.bulkWrite')).toBe(2);
    expect(calls.get('conversations.findOneAndUpdate')).toBeUndefined();

    const started = await conversations.open({ ...owner(), firstMessage: 'Never stored' });
    const [record] = await stored('conversations', { _id: started._id });
    expect(started).toStrictEqual(record);
    expect(record).toMatchObject({ messageCount: 1, lastMessagePreview: 'Never stored' });
    await conversations.uncountFirst(started);
    const [undone] = await stored('conversations', { _id: started._id });
    expect(undone).toMatchObject({ messageCount: 0, lastMessageAt: null, lastMessagePreview: '' });
    expect(started).toStrictEqual(undone);
  });

  it("inserts the messages of one tick's turns together, a refused record failing only its own turn", async () => {
    const conversation: StoredConversation = await conversations.open(owner());
    await conversations.createTurnMessages(conversation, 'Sent before', 'cm-taken', lease());
    const clientIds = ['cm-1', 'cm-2', 'cm-taken', 'cm-3', 'cm-twice', 'cm-twice', 'cm-4'];
    const { result: outcomes, calls } = await counting(() =>
      Promise.allSettled(
        clientIds.map((clientId, i) => conversations.createTurnMessages(conversation, `Turn ${i}`, clientId, lease())),
      ),
    );
    // Each refused question ends one ordered insert; the turns after it go in the next.
    expect(calls.get('messages.insertMany')).toBe(3);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(isDuplicateKeyError(outcome.reason)).toBe(true);
    }
    const messages = await stored('messages', { conversationId: conversation._id });
    // The one sent before and the five turns stored, two records each; nothing of the refused turns.
    expect(messages).toHaveLength(2 + 5 * 2);
    expect(messages.filter((m) => m.clientMessageId === 'cm-twice')).toHaveLength(1);
    expect(messages.filter((m) => m.content === 'Turn 2' || m.content === 'Turn 5')).toHaveLength(0);
    const byId = new Map(messages.map((m) => [m._id.toString(), m]));
    for (const outcome of outcomes) {
      if (outcome.status !== 'fulfilled') continue;
      const { userMessage, answer } = outcome.value;
      expect(userMessage).toStrictEqual(byId.get(userMessage._id.toString()));
      expect(answer).toStrictEqual(byId.get(answer._id.toString()));
    }
  });

  it('fails only the conversation whose upsert is refused, each with its own error', async () => {
    const writes = new TurnWrites({
      Conversation: t.connection.model('Conversation') as unknown as ConversationModel,
      Message: t.connection.model('Message') as unknown as MessageModel,
    });
    const chatbotId = new Types.ObjectId();
    await t.connection.collection('conversations').insertOne({ chatbotId, sessionKey: 'held' });
    const now = new Date();
    const upsert = (sessionKey: string, extra: { $set?: object; $setOnInsert?: object } = {}) =>
      writes.upsertConversation({
        filter: { chatbotId, sessionKey },
        update: {
          $set: { updatedAt: now, ...extra.$set },
          $setOnInsert: { createdAt: now, metadata: {}, ...extra.$setOnInsert },
        },
      });
    const outcomes = await Promise.allSettled([
      upsert('first'),
      // Two operators on one path: refused by the database.
      upsert('conflicting', { $set: { metadata: 1 } }),
      upsert('held'),
      // Inserted under a key already held: a duplicate key.
      upsert('moved', { $setOnInsert: { sessionKey: 'held' } }),
      upsert('last'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const [first, conflicting, held, moved, last] = outcomes;
    expect(isDuplicateKeyError((conflicting as PromiseRejectedResult).reason)).toBe(false);
    expect(isDuplicateKeyError((moved as PromiseRejectedResult).reason)).toBe(true);
    // A key already held upserts nothing: null, the caller reads the stored conversation.
    expect((held as PromiseFulfilledResult<unknown>).value).toBeNull();
    const keys = (await stored('conversations', { chatbotId })).map((record) => [record._id, record.sessionKey]);
    expect(keys).toHaveLength(3);
    expect(keys).toContainEqual([(first as PromiseFulfilledResult<unknown>).value, 'first']);
    expect(keys).toContainEqual([(last as PromiseFulfilledResult<unknown>).value, 'last']);
  });
});
