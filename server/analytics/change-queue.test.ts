import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BatchApplier, QueuedChange } from './change-batch.js';
import { ChangeQueue, lingerMs } from './change-queue.js';
import type { DayMarks } from './day-marks.js';
import type { RecordSource } from './rollup-inputs.js';

/** A queue whose batches are recorded (by conversation id) and applied at once; announcements as a test sets them. */
function queueWithBatches(settings = { leaseMs: 60_000, pollMs: 30_000 }) {
  const batches: string[][] = [];
  // While held, a batch is recorded when it starts and finishes once released (a slow database).
  let held: Promise<void> | null = null;
  const hold = () => {
    let release!: () => void;
    held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      held = null;
      release();
    };
  };
  let announcing: { followUp: boolean; lingering?: boolean } | undefined;
  const records = {
    announced: () => (announcing ? { records: new Map(), ...announcing } : undefined),
  } as unknown as RecordSource;
  const applier = {
    applyBatch: async (changes: QueuedChange[]) => {
      batches.push(changes.map((change) => change.conversationId));
      await held;
      for (const change of changes) for (const waiter of change.waiters) waiter.resolve();
    },
  } as unknown as BatchApplier;
  const marks = { flush: async () => {} } as unknown as DayMarks;
  const queue = new ChangeQueue(records, settings, applier, marks);
  const announce = (conversationId: string, as?: { followUp: boolean; lingering?: boolean }) => {
    announcing = as;
    try {
      return queue.applyChange('bot', conversationId, []);
    } finally {
      announcing = undefined;
    }
  };
  return { queue, batches, announce, hold };
}

describe('ChangeQueue', () => {
  it('holds a lingering change (a finished answer) for a while, not for the next turn of the event loop', async () => {
    const { batches, announce } = queueWithBatches();
    let applied = false;
    const done = announce('c1', { followUp: false, lingering: true }).then(() => (applied = true));
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(10);
    expect(applied).toBe(false);
    expect(batches).toEqual([]);
    await done;
    expect(batches).toEqual([['c1']]);
  });

  it('lets lingering changes ride along with a change applied now, and with each other', async () => {
    const { batches, announce } = queueWithBatches();
    const lingering = [
      announce('c1', { followUp: false, lingering: true }),
      announce('c2', { followUp: false, lingering: true }),
    ];
    await sleep(5);
    // Feedback, a deletion: applied at the next turn of the event loop, the answers waiting with it.
    await announce('c3');
    await Promise.all(lingering);
    expect(batches).toEqual([['c1', 'c2', 'c3']]);
  });

  it('keeps a question waiting for its answer out of other batches, and applies the two as one', async () => {
    const { batches, announce } = queueWithBatches();
    const question = announce('c1', { followUp: true });
    await announce('c2');
    expect(batches).toEqual([['c2']]);
    const answer = announce('c1', { followUp: false, lingering: true });
    await Promise.all([question, answer]);
    expect(batches).toEqual([['c2'], ['c1']]);
  });

  it('applies one batch at a time: what falls due meanwhile goes in the next one, together', async () => {
    const { batches, announce, hold } = queueWithBatches();
    const release = hold();
    const first = announce('c1');
    await sleep(5);
    expect(batches).toEqual([['c1']]);
    const later = [announce('c2'), announce('c3', { followUp: false, lingering: true }), announce('c4')];
    await sleep(5);
    expect(batches).toEqual([['c1']]);
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([['c1'], ['c2', 'c3', 'c4']]);
  });

  it('lingers at most lingerMs, never past a quarter of the poll or lease', () => {
    expect(lingerMs({ leaseMs: 60_000, pollMs: 30_000 })).toBe(100);
    expect(lingerMs({ leaseMs: 200, pollMs: 100 })).toBe(25);
  });

  it('applies what lingers at once for a report (applyWaiting)', async () => {
    const { queue, batches, announce } = queueWithBatches();
    void announce('c1', { followUp: false, lingering: true });
    void announce('c2', { followUp: true });
    await queue.applyWaiting();
    expect(batches).toEqual([['c1', 'c2']]);
  });
});
