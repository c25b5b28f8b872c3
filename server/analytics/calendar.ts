/**
 * Local calendars of IANA time zones, from `Intl` alone. Rollups are kept per UTC quarter hour: every
 * offset in use today (including +05:30 and +05:45) is a multiple of 15 minutes, so local days, weeks
 * and months are whole runs of quarters.
 */
export const QUARTER_MS = 15 * 60_000;
export const DAY_MS = 86_400_000;

export type Granularity = 'day' | 'week' | 'month';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(timeZone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** A local wall-clock time as a UTC-based number (what `Date.UTC` gives for the same fields). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
  ms?: number;
}

/**
 * The instant a local wall time happens. A time skipped by a DST jump maps to just after the jump; a time
 * that happens twice maps to its first occurrence.
 */
export function instantOf(timeZone: string, wall: WallTime): number {
  const asUtc = Date.UTC(
    wall.year,
    wall.month - 1,
    wall.day,
    wall.hour ?? 0,
    wall.minute ?? 0,
    wall.second ?? 0,
    wall.ms ?? 0,
  );
  const first = asUtc - offsetAt(timeZone, asUtc);
  const second = asUtc - offsetAt(timeZone, first);
  return Math.min(first, second);
}

/** The local calendar date at an instant. */
export function localDate(timeZone: string, instant: number): { year: number; month: number; day: number } {
  const shifted = new Date(instant + offsetAt(timeZone, instant));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The local date `days` after the given one (calendar arithmetic, no zone involved). */
function addDays(date: { year: number; month: number; day: number }, days: number) {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The local date the period containing `date` starts on: the day itself, its week's Monday, its month's 1st. */
function periodStartDate(granularity: Granularity, date: { year: number; month: number; day: number }) {
  if (granularity === 'day') return date;
  if (granularity === 'month') return { ...date, day: 1 };
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return addDays(date, -((weekday + 6) % 7));
}

function nextPeriodDate(granularity: Granularity, start: { year: number; month: number; day: number }) {
  if (granularity === 'day') return addDays(start, 1);
  if (granularity === 'week') return addDays(start, 7);
  return start.month === 12 ? { year: start.year + 1, month: 1, day: 1 } : { ...start, month: start.month + 1 };
}

/** The local periods covering [from, to), each clipped to the range, in order. */
export function periodsOf(
  timeZone: string,
  granularity: Granularity,
  from: number,
  to: number,
): Array<{ start: number; end: number }> {
  const periods: Array<{ start: number; end: number }> = [];
  let date = periodStartDate(granularity, localDate(timeZone, from));
  let start = from;
  while (start < to) {
    date = nextPeriodDate(granularity, date);
    const end = Math.min(to, instantOf(timeZone, date));
    periods.push({ start, end });
    start = end;
  }
  return periods;
}

/** Start of the local day `days` before the one containing `instant`. */
export function localDayStart(timeZone: string, instant: number, daysBefore = 0): number {
  return instantOf(timeZone, addDays(localDate(timeZone, instant), -daysBefore));
}

export const floorQuarter = (ms: number) => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
export const ceilQuarter = (ms: number) => Math.ceil(ms / QUARTER_MS) * QUARTER_MS;
