import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A piece of work that runs until `finish` is called, recording when it started. */
function gated(started: number[], id: number) {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      started.push(id);
      await done;
      return id;
    },
    finish: () => finish(),
  };
}

describe('Slots', () => {
  it('runs at most its size at once, the rest in arrival order as slots free up', async () => {
    const slots = new Slots(2);
    const started: number[] = [];
    const jobs = [1, 2, 3, 4].map((id) => gated(started, id));
    const signal = new AbortController().signal;
    const results = jobs.map((job) => slots.run(job.work, signal));
    await nextTurn();
    expect(started).toEqual([1, 2]);
    jobs[1]!.finish();
    await nextTurn();
    expect(started).toEqual([1, 2, 3]);
    jobs[0]!.finish();
    jobs[2]!.finish();
    jobs[3]!.finish();
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4]);
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it('when a waiting job is aborted, rejects it with the reason and gives its place to the next', async () => {
    const slots = new Slots(1);
    const started: number[] = [];
    const [first, second, third] = [1, 2, 3].map((id) => gated(started, id));
    const aborted = new AbortController();
    const running = slots.run(first!.work, new AbortController().signal);
    const waiting = slots.run(second!.work, aborted.signal);
    const next = slots.run(third!.work, new AbortController().signal);
    aborted.abort(new Error('source deleted'));
    await expect(waiting).rejects.toThrow('source deleted');
    first!.finish();
    third!.finish();
    expect(await Promise.all([running, next])).toEqual([1, 3]);
    expect(started).toEqual([1, 3]);
  });

  it('frees the slot when the work fails', async () => {
    const slots = new Slots(1);
    const signal = new AbortController().signal;
    await expect(slots.run(() => Promise.reject(new Error('fetch failed')), signal)).rejects.toThrow('fetch failed');
    expect(await slots.run(async () => 'next', signal)).toBe('next');
  });
});
