import { describe, expect, it } from 'vitest';
import { dateQuerySchema } from './common.js';

describe('dateQuerySchema', () => {
  it('refuses a day past the end of its month instead of rolling it into the next month', () => {
    for (const value of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-06-31T08:00:00Z', '2100-02-29']) {
      const parsed = dateQuerySchema.safeParse(value);
      expect(parsed.success, value).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/^is not a real calendar date: \d{4}-\d{2} has (28|30) days$/);
    }
  });

  it('keeps the last day of every month, leap days included', () => {
    for (const value of ['2024-02-29', '2000-02-29', '2026-01-31', '2026-04-30', '2026-12-31T23:59:59+02:00']) {
      expect(dateQuerySchema.parse(value)).toEqual(new Date(value));
    }
  });

  it('names a string that is no ISO 8601 date once, by the pattern', () => {
    const parsed = dateQuerySchema.safeParse('yesterday');
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([
      'must be an ISO 8601 date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z',
    ]);
  });
});
