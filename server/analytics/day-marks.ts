import type { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AnalyticsModels } from './analytics.model.js';
import { dayKey } from './contribution.js';

type Bot = { organizationId: Types.ObjectId; chatbotId: Types.ObjectId };

interface Logger {
  error(object: object, message: string): void;
}

/**
 * The flags of the (bot, UTC day)s being updated (`AnalyticsMark`): raised before a day's update, lowered once it
 * is done, so one left raised (a crash, a failed write) is recomputed by the reconciliation. A lowering may be
 * left for later (`lowerSoon`): a raise of the same mark soon after takes it over (the flag stays raised, no
 * write), else it rides on the next raise's write, or is written on its own after `lowerAfterMs` or at `flush`.
 * A flag lowered late only stays raised longer than needed (what a crash right after the update leaves anyway),
 * never shorter, so sequential changes of one day cost a mark write now and then, not two each.
 */
export class DayMarks {
  /** Lowerings not written yet, by mark key. */
  private readonly due = new Map<string, number>();
  /** When this process last set each mark's `touchedAt` (`Date.now()` time), for the marks with lowerings due. */
  private readonly touched = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly Mark: AnalyticsModels['AnalyticsMark'],
    private readonly timing: {
      /** Well within the reconciliation's lease, so a flag lowered late is never taken for a stopped update. */
      lowerAfterMs: number;
      /**
       * A raise takes over a lowering not written yet only while the mark was touched less than this long ago
       * (a quarter of the lease): the change it flags then ends long before the reconciliation may take the
       * mark for a stopped update.
       */
      takeOverMs: number;
    },
    private readonly logger: Logger,
  ) {}

  /**
   * Raises each (bot, day) once for each time it is listed, in one write that also makes the lowerings due.
   * Those come first in the ordered write: a mark deleted meanwhile is raised again, not left at zero.
   */
  async raise(list: Array<{ bot: Bot; day: string }>): Promise<void> {
    const counts = new Map<string, { bot: Bot; day: string; by: number }>();
    const now = Date.now();
    for (const { bot, day } of list) {
      const key = dayKey(bot.chatbotId, day);
      // The flag this process raised for an update now done, not lowered yet, stays raised for this one.
      const owed = this.due.get(key) ?? 0;
      if (owed > 0 && now - (this.touched.get(key) ?? -Infinity) < this.timing.takeOverMs) {
        if (owed === 1) this.due.delete(key);
        else this.due.set(key, owed - 1);
        continue;
      }
      const found = counts.get(key);
      if (found) found.by += 1;
      else counts.set(key, { bot, day, by: 1 });
    }
    const touchedAt = new Date(now);
    const raises = [...counts].map(([key, { bot, day, by }]) => ({
      updateOne: {
        filter: { key },
        update: {
          $inc: { pending: by },
          $set: { touchedAt },
          $setOnInsert: { chatbotId: bot.chatbotId, organizationId: bot.organizationId, day: dayStart(day) },
        },
        upsert: true,
      },
    }));
    if (raises.length === 0) return;
    const lowers = this.takeDue();
    // Only the marks with lowerings due need theirs; the others' are kept for a change under way, a few at most.
    if (this.touched.size > 10_000) this.touched.clear();
    for (const key of counts.keys()) this.touched.set(key, now);
    try {
      // Plain values of the schema's types (every field set on insert): the driver's bulk write, without casting.
      await this.Mark.collection.bulkWrite([...lowers, ...raises], { ordered: true });
    } catch (error) {
      // A lowering that may not have been written leaves its flag raised: recomputed later, never lost.
      if (!isDuplicateKeyError(error)) throw error;
      // Another writer created a mark at the same moment. The write stopped there (it is ordered, and only raises
      // can meet a duplicate): the lowerings were written; the raises from the failed one on are made one by one.
      const failedAt = (error as { writeErrors?: Array<{ index?: number }> }).writeErrors?.[0]?.index;
      const from = typeof failedAt === 'number' ? Math.max(0, failedAt - lowers.length) : 0;
      for (const op of raises.slice(from)) {
        await this.Mark.updateOne(op.updateOne.filter, op.updateOne.update, { upsert: true }).catch((again: unknown) =>
          isDuplicateKeyError(again)
            ? this.Mark.updateOne(op.updateOne.filter, op.updateOne.update)
            : Promise.reject(again),
        );
      }
    }
  }

  /**
   * The updates of these (bot, day)s are done, once for each time one is listed, in one write now. Marks left at
   * zero stay (`reconcile` looks only at raised ones) and are removed by the background pass once untouched.
   */
  async lower(list: Array<{ chatbotId: Types.ObjectId; day: string }>): Promise<void> {
    const counts = new Map<string, number>();
    for (const { chatbotId, day } of list) {
      const key = dayKey(chatbotId, day);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    await this.write(lowerOps(counts));
  }

  /** Like `lower`, written with the next raise, or on its own after `lowerAfterMs` or at `flush`. */
  lowerSoon(list: Array<{ chatbotId: Types.ObjectId; day: string }>): void {
    for (const { chatbotId, day } of list) {
      const key = dayKey(chatbotId, day);
      this.due.set(key, (this.due.get(key) ?? 0) + 1);
    }
    if (this.due.size === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((error: unknown) =>
        this.logger.error({ err: error }, 'analytics: could not lower day marks; they are recomputed later'),
      );
    }, this.timing.lowerAfterMs);
    this.timer.unref();
  }

  /** Writes the lowerings due now. */
  async flush(): Promise<void> {
    await this.write(this.takeDue());
  }

  private takeDue() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ops = lowerOps(this.due);
    for (const key of this.due.keys()) this.touched.delete(key);
    this.due.clear();
    return ops;
  }

  private async write(ops: ReturnType<typeof lowerOps>): Promise<void> {
    if (ops.length === 0) return;
    // Plain values of the schema's types: the driver's bulk write, without mongoose's casting.
    await this.Mark.collection.bulkWrite(ops, { ordered: false });
  }
}

const dayStart = (day: string) => new Date(`${day}T00:00:00Z`);

function lowerOps(counts: Map<string, number>) {
  return [...counts].map(([key, count]) => ({
    updateOne: { filter: { key }, update: { $inc: { pending: -count } } },
  }));
}
