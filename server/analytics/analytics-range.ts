import type { AnalyticsQuery } from '../../shared/schemas/analytics.js';
import { failValidation } from '../errors/parse.js';
import { ceilQuarter, DAY_MS, floorQuarter, instantOf, localDayStart } from './calendar.js';

/** The longest period one request covers. */
export const MAX_RANGE_DAYS = 366;
/** Without `from`, a report covers this many local days up to `to` (today included). */
const DEFAULT_DAYS = 30;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * An instant from an ISO 8601 value: with an offset as given; without one, as a local time in `timeZone`. A
 * date alone is the start of that local day, or for an end, the start of the next (the day is included).
 */
function instantOfParam(value: string, timeZone: string, param: 'from' | 'to'): number {
  const match = DATE_TIME.exec(value);
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  // The query schema refused what is not ISO 8601 or not a real day (2026-02-30); the rollups start in 1970.
  if (!match || year < 1970) {
    failValidation(`Invalid query: ${param}: must be a date from 1970 on`, [
      { path: param, message: 'must be a date from 1970 on' },
    ]);
  }
  if (match[4] === undefined) return instantOf(timeZone, { year, month, day: param === 'to' ? day + 1 : day });
  if (match[8]) return new Date(value.replace(' ', 'T')).getTime();
  const ms = match[7] ? Math.round(Number(match[7]) * 1000) : 0;
  return instantOf(timeZone, {
    year,
    month,
    day,
    hour: Number(match[4]),
    minute: Number(match[5]),
    second: Number(match[6] ?? 0),
    ms,
  });
}

/**
 * The period a report covers, widened to whole quarter hours (the rollups' resolution): `from` down, `to` up.
 * Defaults: up to now, from the start of the local day 29 days before (30 days with today).
 */
export function rangeOf(query: AnalyticsQuery, now: number): { from: number; to: number } {
  const to = ceilQuarter(query.to ? instantOfParam(query.to, query.timezone, 'to') : now);
  const from = floorQuarter(
    query.from
      ? instantOfParam(query.from, query.timezone, 'from')
      : localDayStart(query.timezone, to - 1, DEFAULT_DAYS - 1),
  );
  if (from >= to) {
    failValidation('Invalid query: from: must be before to', [{ path: 'from', message: 'must be before to' }]);
  }
  if (to - from > MAX_RANGE_DAYS * DAY_MS) {
    failValidation(`Invalid query: to: the period can span at most ${MAX_RANGE_DAYS} days`, [
      { path: 'to', message: `the period can span at most ${MAX_RANGE_DAYS} days` },
    ]);
  }
  return { from, to };
}
