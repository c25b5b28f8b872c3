import { describe, expect, it } from 'vitest';
import { GroupCommit, KeyedGroupCommit, KeyedGroupRead, succeeded, type ItemOutcome } from './group-commit.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes what arrives while a flush is in flight together in the next flush', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new GroupCommit<number, number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await gate;
      return items.map((item) => succeeded(item * 10));
    });
    const first = batcher.submit(1);
    // Wait until the first flush is in flight, then queue three more behind it.
    while (flushes.length === 0) await nextTurn();
    const later = [batcher.submit(2), batcher.submit(3), batcher.submit(4)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the items the flush names, and every item when the flush itself fails', async () => {
    const perItem = new GroupCommit<number, number>(async (items) =>
      items.map((item): ItemOutcome<number> => (item === 2 ? { ok: false, error: new Error('two') } : succeeded(item))),
    );
    const settled = await Promise.allSettled([perItem.submit(1), perItem.submit(2), perItem.submit(3)]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    let down = true;
    const whole = new GroupCommit<number, number>(async (items) => {
      if (down) throw new Error('database gone');
      return items.map((item) => succeeded(item));
    });
    const all = await Promise.allSettled([whole.submit(1), whole.submit(2)]);
    expect(all.every((result) => result.status === 'rejected')).toBe(true);
    // It keeps working after a failed flush.
    down = false;
    expect(await whole.submit(5)).toBe(5);
  });

  it('fails an item the flush gives no outcome for', async () => {
    const short = new GroupCommit<number, number>(async (items) => items.slice(1).map((item) => succeeded(item)));
    const settled = await Promise.allSettled([short.submit(1), short.submit(2)]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('holds a lingering item for the next flush another item sets off, and flushes it alone once its wait ends', async () => {
    const flushes: string[][] = [];
    const batcher = new GroupCommit<string, string>(async (items) => {
      flushes.push(items);
      return items.map((item) => succeeded(item));
    });
    const lingering = batcher.submit('counters', { lingerMs: 60_000 });
    await nextTurn();
    await nextTurn();
    expect(flushes).toEqual([]);
    expect(await Promise.all([lingering, batcher.submit('take')])).toEqual(['counters', 'take']);
    expect(flushes).toEqual([['counters', 'take']]);

    expect(await batcher.submit('alone', { lingerMs: 1 })).toBe('alone');
    expect(flushes).toEqual([['counters', 'take'], ['alone']]);
  });

  it('keeps each flush within its size limit', async () => {
    const sizes: number[] = [];
    const batcher = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items.map((item) => succeeded(item));
    }, 3);
    await Promise.all(Array.from({ length: 8 }, (_, n) => batcher.submit(n)));
    expect(sizes).toEqual([3, 3, 2]);
  });
});

describe('KeyedGroupCommit', () => {
  it('writes the values of one key asked in one tick together, and each caller waits for that write', async () => {
    const writes: Array<[string, number[]]> = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const group = new KeyedGroupCommit<number>(async (key, values) => {
      writes.push([key, values]);
      await held;
    });
    let settled = 0;
    const all = [group.add('a', 1), group.add('a', 2), group.add('b', 3)].map((p) => p.then(() => (settled += 1)));
    await nextTurn();
    // Different keys are written independently: both are in flight.
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

  it("joins what is added while a key's write is in flight into that key's next write", async () => {
    const writes: Array<[string, number[]]> = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const group = new KeyedGroupCommit<number>(async (key, values) => {
      writes.push([key, values]);
      if (writes.length === 1) await gate;
    });
    const first = group.add('a', 1);
    while (writes.length === 0) await nextTurn();
    const later = [group.add('a', 2), group.add('a', 3)];
    await nextTurn();
    expect(writes).toEqual([['a', [1]]]);
    release();
    await Promise.all([first, ...later]);
    expect(writes).toEqual([
      ['a', [1]],
      ['a', [2, 3]],
    ]);
  });

  it('gives each caller its own outcome: one failed value, or the whole write failing', async () => {
    const failed = new Error('duplicate');
    const some = new KeyedGroupCommit<number>(async (_key, values) =>
      values.map((v) => (v === 2 ? failed : undefined)),
    );
    const outcomes = await Promise.allSettled([some.add('k', 1), some.add('k', 2), some.add('k', 3)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    const down = new Error('database down');
    const none = new KeyedGroupCommit<number>(async () => {
      throw down;
    });
    const both = await Promise.allSettled([none.add('k', 1), none.add('k', 2)]);
    expect(both).toEqual([
      { status: 'rejected', reason: down },
      { status: 'rejected', reason: down },
    ]);
  });

  it('holds a key only while it has values pending or in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let fail = false;
    const group = new KeyedGroupCommit<number>(async (key) => {
      if (key === 'held') await gate;
      if (fail) throw new Error('down');
    });
    await Promise.all(Array.from({ length: 50 }, (_, n) => group.add(`key ${n}`, n)));
    expect(group.activeKeys).toBe(0);

    const held = group.add('held', 1);
    expect(group.activeKeys).toBe(1);
    release();
    await held;
    expect(group.activeKeys).toBe(0);
    // A failed write drops its key too.
    fail = true;
    await expect(group.add('k', 1)).rejects.toThrow('down');
    expect(group.activeKeys).toBe(0);
  });
});

describe('KeyedGroupRead', () => {
  it('answers the callers who asked while a read was in flight with the next read, never the one in flight', async () => {
    let stored = 1;
    const reads: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const versions = new KeyedGroupRead<number>(async (key) => {
      reads.push(key);
      const seen = stored;
      if (reads.length === 1) await gate;
      return seen;
    });
    const first = versions.get('bot');
    while (reads.length === 0) await nextTurn();
    // Written after the first read began: the callers asking now must see it.
    stored = 2;
    const later = [versions.get('bot'), versions.get('bot'), versions.get('bot')];
    const other = versions.get('other bot');
    release();
    expect(await first).toBe(1);
    expect(await Promise.all(later)).toEqual([2, 2, 2]);
    expect(await other).toBe(2);
    expect(reads).toEqual(['bot', 'other bot', 'bot']);
  });

  it('fails the callers of a failed read only, and reads again for the next caller', async () => {
    let down = true;
    const group = new KeyedGroupRead<string>(async (key) => {
      if (down) throw new Error('database gone');
      return key;
    });
    const failed = await Promise.allSettled([group.get('k'), group.get('k')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    down = false;
    expect(await group.get('k')).toBe('k');
  });
});
