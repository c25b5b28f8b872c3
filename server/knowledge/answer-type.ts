/**
 * What kind of value a question asks for, and whether a passage holds one: "how much does express
 * shipping cost?" wants an amount, "how often is the newsletter sent?" a frequency. A passage on
 * the question's topic that holds no value of that kind does not answer it, which is how most
 * unanswerable questions about a help centre look (SQuAD 2.0's too). English only; a question of
 * no recognised kind gets no verdict.
 */
interface AnswerKind {
  asks: RegExp;
  holds: RegExp;
}

const NUMBER_WORDS =
  'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|half|a few|several|once|twice';
const UNITS = 'second|minute|hour|day|night|week|fortnight|month|year|decade|business day|working day';
const WEEKDAYS = 'monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend';
const NUMBER = `\\d|\\b(?:${NUMBER_WORDS})\\b`;

const KINDS: AnswerKind[] = [
  // An amount of money: a price, fee or cost (free is an amount too).
  {
    asks: /\bhow much\b.*\b(?:cost|charge|pay|price|fee)|\b(?:price|cost|fee|charge) (?:of|for)\b|\bhow much is\b|\bhow much does\b/i,
    holds:
      /[$€£¥]\s?\d|\d\s?(?:[$€£¥]|euros?|dollars?|pounds?|usd|eur|gbp|cents?)\b|\bfree\b|\bno (?:charge|fee|cost)\b|\bper cent|%/i,
  },
  // How often: a frequency.
  {
    asks: /\bhow often\b|\bhow frequently\b/i,
    holds: new RegExp(
      `\\b(?:every|each|daily|weekly|monthly|yearly|annually|hourly|once|twice|times a|a (?:${UNITS})|per (?:${UNITS}))\\b`,
      'i',
    ),
  },
  // A clock time.
  {
    asks: /\bwhat time\b|\bat what hour\b|\bhow late\b|\bhow early\b/i,
    holds:
      /\b\d{1,2}(?:[:.]\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.|h)\b|\b\d{1,2}:\d\d\b|\bnoon\b|\bmidnight\b|\b24\/7\b|\baround the clock\b/i,
  },
  // A count or a duration.
  {
    asks: /\bhow (?:many|long|soon|fast|quickly|old)\b|\bhow much time\b|\bwhat (?:age|year)\b|\bwithin how\b/i,
    holds: new RegExp(
      `${NUMBER}|\\b(?:${UNITS})s?\\b|\\b(?:immediately|instantly|same day|next day|overnight|tomorrow|never|no limit|unlimited|forever|any time)\\b`,
      'i',
    ),
  },
  // A day or date.
  {
    asks: /\b(?:when|what day|which day|what date|by when)\b/i,
    holds: new RegExp(
      `${NUMBER}|\\b(?:${WEEKDAYS}|${UNITS}|january|february|march|april|may|june|july|august|september|october|november|december|today|tomorrow|immediately|before|after|once|until|as soon as|when)\\b`,
      'i',
    ),
  },
];

/**
 * 1 when the question asks for a kind of value (an amount, a frequency, a time, a count or
 * duration, a day) and the passage holds one; 0 when it asks and the passage holds none; null
 * when the question asks for no kind this recognises.
 */
export function answerKindHeld(question: string, passage: string): number | null {
  const kind = KINDS.find((candidate) => candidate.asks.test(question));
  if (!kind) return null;
  return kind.holds.test(passage) ? 1 : 0;
}
