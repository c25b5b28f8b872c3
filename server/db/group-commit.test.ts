import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  it('writes the values of one key asked in one tick together, and each caller waits for that write', async () => {
    const writes: Array<[string, number[]]> = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const group = new GroupCommit<number>(async (key, values) => {
      writes.push([key, values]);
      await held;
    });
    let settled = 0;
    const all = [group.add('a', 1), group.add('a', 2), group.add('b', 3)].map((p) => p.then(() => (settled += 1)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([
      ['a', [1, 2]],
      ['b', [3]],
    ]);
    expect(settled).toBe(0);
    release();
    await Promise.all(all);
    expect(settled).toBe(3);
    // A later tick is a new batch.
    await group.add('a', 4);
    expect(writes.at(-1)).toEqual(['a', [4]]);
  });

  it('gives each caller its own outcome: one failed value, or the whole write failing', async () => {
    const failed = new Error('duplicate');
    const some = new GroupCommit<number>(async (_key, values) => values.map((v) => (v === 2 ? failed : undefined)));
    const outcomes = await Promise.allSettled([some.add('k', 1), some.add('k', 2), some.add('k', 3)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    const down = new Error('database down');
    const none = new GroupCommit<number>(async () => {
      throw down;
    });
    const both = await Promise.allSettled([none.add('k', 1), none.add('k', 2)]);
    expect(both).toEqual([
      { status: 'rejected', reason: down },
      { status: 'rejected', reason: down },
    ]);
  });
});
