import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { toAppError } from './error-handler.js';

describe('toAppError', () => {
  it('answers a bulk write that lost its connection as the database being unavailable', () => {
    const lost = new mongoose.mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1');
    const bulk = new mongoose.mongo.MongoBulkWriteError(lost, {} as mongoose.mongo.BulkWriteResult);
    expect(toAppError(bulk)).toMatchObject({
      name: 'UnavailableError',
      message: 'The database is unavailable; try again shortly',
    });
    expect(toAppError(lost)).toMatchObject({ name: 'UnavailableError' });
  });
});
