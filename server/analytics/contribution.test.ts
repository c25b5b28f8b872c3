import { hash } from 'node:crypto';
import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { countedAs, hashKey, type RawConversation } from './contribution.js';

describe('countedAs', () => {
  const conversation = (fields: Partial<RawConversation>): RawConversation => ({
    _id: new Types.ObjectId(),
    organizationId: new Types.ObjectId(),
    chatbotId: new Types.ObjectId(),
    channel: 'api',
    sessionKey: 'auto:1',
    createdAt: new Date(),
    ...fields,
  });

  // Days stored before keep their documents: a visitor must fall in the shard, and under the key, it always did.
  it('puts a visitor in the shard of its digest’s first 8 hex digits, under the hashKey of the visitor', () => {
    const cases = [
      [conversation({ visitorId: 'v-1', channel: 'widget' }), 'visitor:v-1'],
      [conversation({ sessionKey: 'session:s-9' }), 'session:s-9'],
    ] as const;
    const anonymous = Array.from({ length: 200 }, () => {
      const record = conversation({});
      return [record, `conversation:${record._id.toString()}`] as const;
    });
    for (const [record, visitor] of [...cases, ...anonymous]) {
      for (const shards of [1, 7, 16]) {
        const counted = countedAs(record, shards);
        expect(counted.shard).toBe(Number.parseInt(hash('sha1', visitor, 'hex').slice(0, 8), 16) % shards);
        expect(counted.visitor).toBe(hashKey(visitor));
      }
    }
  });
});
