import mongoose, { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageBuilder, messageModel, type NewMessageFields } from './message.model.js';

const connection = mongoose.createConnection();
const Message = messageModel(connection);
afterAll(() => connection.close());

function turnFields(): { question: NewMessageFields; answer: NewMessageFields } {
  const owner = {
    organizationId: new Types.ObjectId(),
    chatbotId: new Types.ObjectId(),
    conversationId: new Types.ObjectId(),
  };
  const now = new Date();
  const stamps = { createdAt: now, updatedAt: now, __v: 0 };
  const questionId = new Types.ObjectId();
  return {
    question: {
      _id: questionId,
      ...owner,
      role: 'user',
      content: 'How do I reset my password?',
      status: 'complete',
      clientMessageId: 'gen:1',
      ...stamps,
    },
    answer: {
      _id: new Types.ObjectId(),
      ...owner,
      role: 'assistant',
      content: '',
      status: 'pending',
      clientMessageId: `answer:${questionId.toString()}`,
      replyTo: questionId,
      leaseOwner: 'node-1',
      leaseId: 'turn-1',
      heartbeatAt: now,
      ...stamps,
    },
  };
}

describe('a turn’s new messages, built without a mongoose document', () => {
  it('hold exactly what mongoose builds for the same fields, whichever kind of message is built first', () => {
    for (const order of [['answer', 'question'], ['question', 'answer']] as const) {
      const builder = new MessageBuilder(Message);
      const fields = turnFields();
      for (const kind of order) {
        expect(builder.build(fields[kind])).toStrictEqual(new Message(fields[kind]).toObject());
      }
    }
  });

  it('share no array or object between two messages', () => {
    const builder = new MessageBuilder(Message);
    const { question, answer } = turnFields();
    const first = builder.build(question);
    const second = builder.build(answer);
    first.sources.push({ sourceId: 's', title: 't', url: null, excerpt: 'e', score: 1 });
    first.toolCalls.push({ name: 'lookup' });
    first.feedback!.rating = 'up';
    expect(second.sources).toEqual([]);
    expect(second.toolCalls).toEqual([]);
    expect(second.feedback).toEqual({ rating: null, comment: null, at: null });
    expect(builder.build(question).feedback).toEqual({ rating: null, comment: null, at: null });
  });
});
