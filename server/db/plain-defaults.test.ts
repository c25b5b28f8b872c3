import mongoose, { Schema, Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { applyPlainDefaults } from './plain-defaults.js';
import { messageModel } from '../conversations/message.model.js';
import { conversationModel } from '../conversations/conversation.model.js';

// Models of the real schemas on a connection that never opens: only their statics are used.
const connection = mongoose.createConnection();
const Message = messageModel(connection);
const Conversation = conversationModel(connection);

/** The record's keys at every depth, in order: the order the driver writes them in. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Types.ObjectId)
    return value;
  return Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]);
}

/** Both ways of filling in defaults, on copies of one record, agree key for key, in the same order. */
function expectSameAsMongoose(model: typeof Message | typeof Conversation, make: () => Record<string, unknown>) {
  const ours = applyPlainDefaults(model.schema, make());
  const theirs = model.applyDefaults(make()) as Record<string, unknown>;
  // A generated `_id` differs between two calls; it is generated in both, at the same place.
  if (!('_id' in make())) {
    expect(ours._id).toBeInstanceOf(Types.ObjectId);
    ours._id = theirs._id;
  }
  expect(shapeOf(ours)).toStrictEqual(shapeOf(theirs));
}

describe('applyPlainDefaults', () => {
  const owner = { organizationId: new Types.ObjectId(), chatbotId: new Types.ObjectId() };
  const now = new Date();

  it('fills in a turn’s question and pending answer as mongoose’s applyDefaults does', () => {
    const _id = new Types.ObjectId();
    const question = {
      _id,
      ...owner,
      conversationId: new Types.ObjectId(),
      role: 'user',
      content: 'Hi',
      status: 'complete',
    };
    expectSameAsMongoose(Message, () => ({
      ...question,
      clientMessageId: 'c-1',
      createdAt: now,
      updatedAt: now,
      __v: 0,
    }));
    expectSameAsMongoose(Message, () => ({
      _id: new Types.ObjectId(_id.toHexString().replace(/.$/, '0')),
      ...owner,
      role: 'assistant',
      content: '',
      status: 'pending',
      clientMessageId: `answer:${_id.toString()}`,
      replyTo: _id,
      leaseOwner: 'node-1',
      leaseId: 'lease-1',
      heartbeatAt: now,
      createdAt: now,
    }));
  });

  it('fills in a new conversation, its nested user and mixed metadata, as mongoose does', () => {
    const user = { sub: 'u-1', name: null, email: null };
    expectSameAsMongoose(Conversation, () => ({ ...owner, channel: 'api', sessionKey: 'auto:1', user, metadata: {} }));
    // A nested path given in part, or not at all; a function default (metadata) asked for each record.
    expectSameAsMongoose(Conversation, () => ({ ...owner, channel: 'widget', sessionKey: 's', user: { sub: 'u-2' } }));
    expectSameAsMongoose(Conversation, () => ({ ...owner }));
    const a = applyPlainDefaults(Conversation.schema, {});
    const b = applyPlainDefaults(Conversation.schema, {});
    expect(a.metadata).toStrictEqual({});
    expect(a.metadata).not.toBe(b.metadata);
  });

  it('gives each record arrays of its own, and fills in the subdocuments of a given array', () => {
    expectSameAsMongoose(Message, () => ({}));
    expectSameAsMongoose(Message, () => ({ sources: [{ sourceId: 's-1', title: 'T' }, null, { url: 'https://x' }] }));
    const a = applyPlainDefaults(Message.schema, {});
    const b = applyPlainDefaults(Message.schema, {});
    expect(a.sources).toStrictEqual([]);
    expect(a.sources).not.toBe(b.sources);
    expect(a.toolCalls).not.toBe(b.toolCalls);
  });

  it('runs a default through the path’s setters, and applies a single nested schema’s defaults', () => {
    const schema = new Schema({
      name: { type: String, default: 'Ada', lowercase: true },
      count: { type: Number, default: 3 },
      at: { type: Date, default: () => now },
      inner: { type: new Schema({ flag: { type: Boolean, default: false }, tag: String }, { _id: false }) },
      given: { type: new Schema({ level: { type: Number, default: 1 } }, { _id: false }), default: () => ({}) },
    });
    const Model = connection.model('PlainDefaults', schema);
    expect(applyPlainDefaults(schema, {})).toMatchObject({ name: 'ada', count: 3, at: now });
    expectSameAsMongoose(Model as never, () => ({}));
    expectSameAsMongoose(Model as never, () => ({ name: 'Bob', inner: { tag: 'x' } }));
    expectSameAsMongoose(Model as never, () => ({ inner: null, given: { level: 2 } }));
  });
});
