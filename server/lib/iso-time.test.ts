import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('writes any instant as toISOString does, the same instant again from memory', () => {
    const instants = [
      0,
      -1,
      1_764_720_000_123,
      8.64e15,
      -8.64e15,
      ...Array.from({ length: 600 }, (_, i) => i * 997_003),
    ];
    for (let round = 0; round < 2; round += 1) {
      for (const time of instants) expect(isoTime(new Date(time))).toBe(new Date(time).toISOString());
    }
    // A date changed after it was written out is written as it is now.
    const date = new Date(5);
    expect(isoTime(date)).toBe('1970-01-01T00:00:00.005Z');
    date.setTime(6);
    expect(isoTime(date)).toBe('1970-01-01T00:00:00.006Z');
  });

  it('throws on an invalid date, as toISOString does', () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
