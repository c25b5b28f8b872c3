import { describe, expect, it } from 'vitest';
import { succeeded, WriteBatcher, type ItemOutcome } from './write-batcher.js';

describe('the write batcher (group commit)', () => {
  it('writes what arrives while a flush is in flight together in the next flush', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new WriteBatcher<number, number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await gate;
      return items.map((item) => succeeded(item * 10));
    });
    const first = batcher.submit(1);
    // Wait until the first flush is in flight, then queue three more behind it.
    while (flushes.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const later = [batcher.submit(2), batcher.submit(3), batcher.submit(4)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the items the flush names, and every item when the flush itself fails', async () => {
    const perItem = new WriteBatcher<number, number>(async (items) =>
      items.map((item): ItemOutcome<number> => (item === 2 ? { ok: false, error: new Error('two') } : succeeded(item))),
    );
    const settled = await Promise.allSettled([perItem.submit(1), perItem.submit(2), perItem.submit(3)]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    let down = true;
    const whole = new WriteBatcher<number, number>(async (items) => {
      if (down) throw new Error('database gone');
      return items.map((item) => succeeded(item));
    });
    const all = await Promise.allSettled([whole.submit(1), whole.submit(2)]);
    expect(all.every((result) => result.status === 'rejected')).toBe(true);
    // The batcher keeps working after a failed flush.
    down = false;
    expect(await whole.submit(5)).toBe(5);
  });

  it('keeps each flush within its size limit', async () => {
    const sizes: number[] = [];
    const batcher = new WriteBatcher<number, number>(async (items) => {
      sizes.push(items.length);
      return items.map((item) => succeeded(item));
    }, 3);
    await Promise.all(Array.from({ length: 8 }, (_, n) => batcher.submit(n)));
    expect(sizes).toEqual([3, 3, 2]);
  });
});
