/** ISO strings of the instants written out lately, by their time. */
const recent = new Map<number, string>();
const REMEMBERED = 256;

/**
 * `date.toISOString()`, remembered for the last few hundred instants: a chat turn writes out the same few instants
 * (its records' creation and update times) about a dozen times, in its events, its analytics and its answer, and
 * each `toISOString` costs about a microsecond. An invalid date throws, as `toISOString` does.
 */
export function isoTime(date: Date): string {
  const time = date.getTime();
  let iso = recent.get(time);
  if (iso === undefined) {
    iso = date.toISOString();
    if (recent.size >= REMEMBERED) recent.clear();
    recent.set(time, iso);
  }
  return iso;
}
