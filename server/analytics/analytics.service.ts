import type { Types } from 'mongoose';
import type { AnalyticsMetrics, AnalyticsQuery, AnalyticsReport } from '../../shared/schemas/analytics.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import { LOW_CONFIDENCE } from '../chat/unanswered.service.js';
import type { LeadsService } from '../leads/leads.service.js';
import { rangeOf } from './analytics-range.js';
import type { AnalyticsRollups } from './analytics-rollups.js';
import type { RollupBot } from './rollup-inputs.js';
import { periodsOf, QUARTER_MS } from './calendar.js';
import { Tally, topOf } from './tally.js';

/** Analytics owns only its rollups: bots and leads are read through their owners. */
export interface AnalyticsDeps {
  chatbots: Pick<ChatbotsService, 'find' | 'botsOf'>;
  leads: Pick<LeadsService, 'captureTimes'>;
  rollups: AnalyticsRollups;
}

/** Tallies of one period (or the whole range), by door. */
class DoorTallies {
  readonly byChannel = new Map<string, Tally>();
  leads = 0;

  constructor(private readonly withTopLists: boolean) {}

  of(channel: string): Tally {
    let tally = this.byChannel.get(channel);
    if (!tally) this.byChannel.set(channel, (tally = new Tally(this.withTopLists)));
    return tally;
  }

  /** All doors together, and the figures. */
  metrics(): { all: Tally; metrics: AnalyticsMetrics } {
    const all = new Tally(this.withTopLists);
    const byChannel: AnalyticsMetrics['byChannel'] = {};
    for (const [channel, tally] of [...this.byChannel].sort(([a], [b]) => (a < b ? -1 : 1))) {
      all.merge(tally);
      byChannel[channel] = tally.metrics();
    }
    return { all, metrics: { ...all.metrics(), leads: this.leads, byChannel } };
  }
}

/**
 * Usage figures of an organization or one bot over a period: totals, a series by local day, week or month,
 * and top lists. Conversation figures come from the rollups (no raw message is read); leads are counted from
 * the leads, through their owner.
 */
export class AnalyticsService {
  constructor(private readonly deps: AnalyticsDeps) {}

  async report(organizationId: string, query: AnalyticsQuery, now = Date.now()): Promise<AnalyticsReport> {
    const { from, to } = rangeOf(query, now);
    const bots = await this.botsOf(organizationId, query.chatbotId);
    const periods = periodsOf(query.timezone, query.granularity, from, to);
    await this.deps.rollups.applyWaiting();
    const [days, leadTimes] = await Promise.all([
      this.deps.rollups.daysOf(bots, from, to),
      this.leadTimes(organizationId, bots, from, to),
    ]);

    const total = new DoorTallies(true);
    const series = periods.map(() => new DoorTallies(false));
    // Periods are in order and quarter-aligned, so a slot's period is found by binary search.
    const periodAt = (at: number) => {
      let low = 0;
      let high = periods.length - 1;
      while (low < high) {
        const mid = (low + high + 1) >> 1;
        if (periods[mid]!.start <= at) low = mid;
        else high = mid - 1;
      }
      return series[low]!;
    };
    for (const { day, slots, slotTops, tops } of days) {
      const dayStart = day.getTime();
      const inRange = (slot: { q: number }) => {
        const at = dayStart + slot.q * QUARTER_MS;
        return at >= from && at < to;
      };
      for (const slot of slots) {
        if (!inRange(slot)) continue;
        const period = periodAt(dayStart + slot.q * QUARTER_MS);
        for (const [channel, figures] of Object.entries(slot.ch)) {
          total.of(channel).add(figures);
          period.of(channel).add(figures);
        }
      }
      // A day covered whole has its day's top lists; one covered in part, its quarter hours'.
      if (!slotTops) {
        for (const [channel, lists] of Object.entries(tops)) total.of(channel).addTops(lists);
        continue;
      }
      for (const slot of slotTops.filter(inRange)) {
        for (const [channel, lists] of Object.entries(slot.ch)) total.of(channel).addTops(lists);
      }
    }
    for (const at of leadTimes) {
      total.leads += 1;
      periodAt(at).leads += 1;
    }

    const { all, metrics } = total.metrics();
    // Wordings are read for the listed questions only: those counted at least as often as the last listed.
    const candidates = (map: Tally['questions']) => {
      const counts = [...map.values()].sort((a, b) => b - a);
      const least = counts[query.top - 1] ?? 1;
      return [...map].filter(([, count]) => count >= least && count > 0);
    };
    const asked = candidates(all.questions);
    const gaps = candidates(all.gaps);
    const wordings = await this.deps.rollups.wordingsOf(days, {
      qs: asked.map(([hash]) => hash),
      gaps: gaps.map(([hash]) => hash),
    });
    const questions = (
      entries: Array<[string, number]>,
      wordingOf: Map<string, { normalized: string; sample: string }>,
    ) =>
      entries
        .flatMap(([hash, count]) => {
          const wording = wordingOf.get(hash);
          return wording ? [{ question: wording.sample, normalized: wording.normalized, count }] : [];
        })
        .sort((a, b) => b.count - a.count || (a.normalized < b.normalized ? -1 : a.normalized > b.normalized ? 1 : 0))
        .slice(0, query.top);
    return {
      chatbotId: query.chatbotId ? (bots[0]?._id.toString() ?? null) : null,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      timezone: query.timezone,
      granularity: query.granularity,
      lowConfidenceThreshold: LOW_CONFIDENCE,
      totals: metrics,
      series: periods.map((period, index) => ({
        start: new Date(period.start).toISOString(),
        end: new Date(period.end).toISOString(),
        ...series[index]!.metrics().metrics,
      })),
      top: {
        questions: questions(asked, wordings.qs),
        unanswered: questions(gaps, wordings.gaps),
        sources: topOf(all.sources, query.top).map(([sourceId, { count, title, url }]) => ({
          sourceId,
          title,
          url,
          count,
        })),
      },
    };
  }

  /** One bot (404 when not the organization's), or every bot of the organization. */
  private async botsOf(organizationId: string, chatbotId: string | undefined): Promise<RollupBot[]> {
    if (chatbotId) return [await this.deps.chatbots.find(organizationId, chatbotId)];
    return this.deps.chatbots.botsOf(organizationId);
  }

  /** When each lead of the bots in [from, to) was captured (leads are few: counted from the records each time). */
  private async leadTimes(organizationId: string, bots: RollupBot[], from: number, to: number): Promise<number[]> {
    if (bots.length === 0) return [];
    return this.deps.leads.captureTimes(
      organizationId,
      bots.map((bot): Types.ObjectId => bot._id),
      new Date(from),
      new Date(to),
    );
  }
}
