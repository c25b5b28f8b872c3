import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { writeErrorsOf } from './write-errors.js';

describe('writeErrorsOf', () => {
  it('names each refused write by its index, as the driver or mongoose reports it', () => {
    const driver = { writeErrors: [{ index: 2, code: 11000, errmsg: 'E11000 duplicate key' }] };
    expect(writeErrorsOf(driver)).toEqual([{ index: 2, code: 11000, errmsg: 'E11000 duplicate key' }]);
    const wrapped = { writeErrors: [{ err: { index: 0, code: 121, errmsg: 'invalid' } }] };
    expect(writeErrorsOf(wrapped)).toEqual([{ index: 0, code: 121, errmsg: 'invalid' }]);
  });

  it('knows nothing of a bulk write that lost its connection, or of a list that does not name every write', () => {
    const lost = new mongoose.mongo.MongoBulkWriteError(
      new mongoose.mongo.MongoNetworkError('connection closed'),
      {} as ConstructorParameters<typeof mongoose.mongo.MongoBulkWriteError>[1],
    );
    expect(lost.writeErrors).toEqual([]);
    expect(writeErrorsOf(lost)).toBeNull();
    expect(writeErrorsOf({ writeErrors: [{ index: 1 }, { code: 11000 }] })).toBeNull();
    expect(writeErrorsOf(new Error('socket hang up'))).toBeNull();
    expect(writeErrorsOf(null)).toBeNull();
  });
});
