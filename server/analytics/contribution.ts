import { hash as digest } from 'node:crypto';
import type { Types } from 'mongoose';
import { CANCELLED_ANSWER } from '../chat/answer.js';
import { INTERRUPTED_ANSWER } from '../chat/answer-lease.js';
import { LOW_CONFIDENCE, normalizeQuestion } from '../chat/unanswered.service.js';
import { DAY_MS, QUARTER_MS } from './calendar.js';
import { latencyBucket, type Counter } from './tally.js';
import { isoTime } from '../lib/iso-time.js';

/** The fields of a message that analytics reads. */
export interface RawMessage {
  _id: Types.ObjectId;
  chatbotId: Types.ObjectId;
  conversationId: Types.ObjectId;
  role: string;
  status: string;
  content?: string | null;
  confidence?: number | null;
  sources?: Array<{ sourceId?: string | null; title?: string | null; url?: string | null }> | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  error?: string | null;
  feedback?: { rating?: string | null } | null;
  firstTokenMs?: number | null;
  replyTo?: Types.ObjectId | null;
  createdAt: Date;
  updatedAt?: Date | null;
}

/** The fields of a conversation that analytics reads; all are fixed when it starts. */
export interface RawConversation {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
  chatbotId: Types.ObjectId;
  channel: string;
  visitorId?: string | null;
  sessionKey: string;
  createdAt: Date;
}

/** A question counted by its hash, with its normalized text, one wording and when that wording was asked. */
type QuestionRef = [hash: string, normalized: string, sample: string, at: string];
type SourceRef = [hash: string, sourceId: string, title: string, url: string | null];

/**
 * What one raw record (a conversation or a message) adds to its bot's rollups, where: its UTC day and
 * quarter hour, and its door. Kept per record (see `AnalyticsFact`) so that a change of the record applies
 * the difference between its old and new contribution, and a repeated event applies nothing.
 */
export interface Contribution {
  /** The record's `updatedAt` (ISO): an older snapshot of a record never replaces a newer one. */
  u: string;
  /** UTC day, `YYYY-MM-DD`. */
  d: string;
  /** Quarter hour of the day, 0-95. */
  q: number;
  /**
   * The day's document it is counted in: the shard of its conversation's visitor (see `CountedAs`). Absent from
   * contributions counted before days were split, which are in the day's unsharded document.
   */
  k?: number;
  ch: string;
  n: Partial<Record<Counter, number>>;
  lat?: number;
  vis?: string;
  qs?: QuestionRef;
  gap?: QuestionRef;
  src?: SourceRef[];
}

/** A key for a stored field name: no `.` or `$`, short, the same for the same text everywhere. */
export function hashKey(text: string): string {
  return `h${digest('sha1', text, 'base64url').slice(0, 16)}`;
}

export const dayStartOf = (instant: number) => Math.floor(instant / DAY_MS) * DAY_MS;

/** `<chatbotId>:<YYYY-MM-DD>`: the key of a bot's UTC day (its mark, and its unsharded document from before). */
export function dayKey(chatbotId: Types.ObjectId | string, day: number | string): string {
  const date = typeof day === 'string' ? day : new Date(day).toISOString().slice(0, 10);
  return `${chatbotId.toString()}:${date}`;
}

/**
 * How many documents (shards, keyed `<dayKey>:<shard>`) a bot's day is split into, so that a day's update touches
 * a document holding a share of the day's visitors, not all of them (the embedded engine copies and compares the
 * whole document at each update). Reports and the reconciliation find a day's documents by bot and day, whatever
 * their shard.
 */
export const DAY_SHARDS = 16;

/** The last day `placeOf` wrote out: a turn's records, and most of a day's, fall on the same day. */
let lastDay = { start: NaN, d: '' };

function placeOf(at: Date): { d: string; q: number } {
  const time = at.getTime();
  const start = dayStartOf(time);
  if (start !== lastDay.start) lastDay = { start, d: new Date(start).toISOString().slice(0, 10) };
  return { d: lastDay.d, q: Math.floor((time % DAY_MS) / QUARTER_MS) };
}

/**
 * Who a visitor is, from what a conversation was started with: the widget's visitor id, else the API
 * session, else (no session given) the conversation itself.
 */
function visitorOf(conversation: RawConversation): string {
  if (conversation.visitorId) return `visitor:${conversation.visitorId}`;
  if (conversation.sessionKey.startsWith('session:')) return conversation.sessionKey;
  return `conversation:${conversation._id.toString()}`;
}

/** What the contributions of one conversation's records share, worked out once for them (see `countedAs`). */
export interface CountedAs {
  /**
   * The shard of the conversation's figures: by its visitor, so that each visitor's keys are in one document of
   * the day and the day's visitors are the sum of its shards'.
   */
  shard: number;
  /** `hashKey` of its visitor. */
  visitor: string;
  /** Its questions' wordings as worked out so far. */
  wordings: Wordings;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A conversation's shard out of `shards` and its visitor's key, from one digest of its visitor. */
export function countedAs(conversation: RawConversation, shards: number): CountedAs {
  const visitorDigest = digest('sha1', visitorOf(conversation), 'base64url');
  // The digest's first 32 bits (its first 8 hex digits), from its first 6 base64url digits (36 bits).
  let leading = 0;
  for (let i = 0; i < 6; i += 1) leading = leading * 64 + BASE64URL.indexOf(visitorDigest[i]!);
  return {
    shard: Math.floor(leading / 16) % shards,
    // As `hashKey` of the visitor.
    visitor: `h${visitorDigest.slice(0, 16)}`,
    wordings: new Map(),
  };
}

/** A failure the model or the app caused, as opposed to the client leaving or the server stopping. */
function isModelFailure(message: RawMessage): boolean {
  return message.error !== CANCELLED_ANSWER && message.error !== INTERRUPTED_ANSWER;
}

/** A question's hash and normalized text (null: nothing left once normalized). */
type Wording = [hash: string, normalized: string] | null;

/**
 * The wordings of questions already worked out for a conversation's records, by their text: a turn's question
 * counts in its own record and, when unanswered, in its answer's gap.
 */
type Wordings = Map<string, Wording>;

function questionRef(text: string | null | undefined, at: Date, wordings: Wordings): QuestionRef | undefined {
  if (!text) return undefined;
  let wording = wordings.get(text);
  if (wording === undefined) {
    const normalized = normalizeQuestion(text);
    wording = normalized ? [hashKey(normalized), normalized] : null;
    wordings.set(text, wording);
  }
  if (!wording) return undefined;
  return [wording[0], wording[1], text.slice(0, 300), isoTime(at)];
}

/** A conversation counts once, in the quarter hour it started, in the shard of its day given. */
export function conversationContribution(conversation: RawConversation, shard: number): Contribution {
  return {
    u: isoTime(conversation.createdAt),
    ...placeOf(conversation.createdAt),
    k: shard,
    ch: conversation.channel,
    n: { conversations: 1 },
  };
}

/**
 * A message's figures in the quarter hour it was created: a question counts its visitor and its wording; an
 * answer its tokens, failure, outcome, feedback, first-token latency, cited sources, and (when it is a gap)
 * the question it failed to answer (`questionText`). Counted in the shard given, the conversation's.
 */
export function messageContribution(
  message: RawMessage,
  conversation: RawConversation,
  questionText: string | undefined,
  counted: CountedAs,
): Contribution {
  const { wordings } = counted;
  const base = {
    u: isoTime(message.updatedAt ?? message.createdAt),
    ...placeOf(message.createdAt),
    k: counted.shard,
    ch: conversation.channel,
  };
  if (message.role === 'user') {
    const qs = questionRef(message.content, message.createdAt, wordings);
    return {
      ...base,
      n: { visitorMessages: 1 },
      vis: counted.visitor,
      ...(qs ? { qs } : {}),
    };
  }
  const n: Contribution['n'] = {};
  const count = (counter: Counter, by = 1) => {
    if (by !== 0) n[counter] = (n[counter] ?? 0) + by;
  };
  count('promptTokens', message.promptTokens ?? 0);
  count('completionTokens', message.completionTokens ?? 0);
  if (message.status === 'failed' && isModelFailure(message)) count('modelFailures');
  if (message.status !== 'complete') return { ...base, n };
  count('answers');
  const confidence = message.confidence ?? 0;
  const sources = message.sources ?? [];
  let gap: QuestionRef | undefined;
  if (confidence >= LOW_CONFIDENCE) count('answered');
  else {
    count(sources.length > 0 ? 'lowConfidence' : 'unanswered');
    gap = questionRef(questionText, message.createdAt, wordings);
  }
  if (message.feedback?.rating === 'up') count('feedbackUp');
  if (message.feedback?.rating === 'down') count('feedbackDown');
  const src = sources.flatMap((source): SourceRef[] =>
    source.sourceId ? [[hashKey(source.sourceId), source.sourceId, source.title ?? '', source.url ?? null]] : [],
  );
  return {
    ...base,
    n,
    ...(typeof message.firstTokenMs === 'number' ? { lat: latencyBucket(message.firstTokenMs) } : {}),
    ...(gap ? { gap } : {}),
    ...(src.length > 0 ? { src } : {}),
  };
}

/** One day document's update: counts to add (negative to take away), wordings and source titles to keep. */
export interface DayUpdate {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  inc: Record<string, number>;
  min: Record<string, string>;
  set: Record<string, unknown>;
}

const emptyUpdate = (day: string): DayUpdate => ({ day, inc: {}, min: {}, set: {} });

/**
 * The day document a contribution is counted in, as its key goes on from the bot's id: `<YYYY-MM-DD>:<shard>`,
 * or `<YYYY-MM-DD>` for one counted before days were split.
 */
export const docOfDay = (contribution: Pick<Contribution, 'd' | 'k'>) =>
  contribution.k === undefined ? contribution.d : `${contribution.d}:${contribution.k}`;

/**
 * Adds `sign` × a contribution to the updates of its day's document (by `docOfDay`), so one taken away is taken
 * from the document it was added to: per quarter hour and door the counters, the latency bucket and the
 * visitor; per quarter hour and per day the top lists. Wordings keep the earliest asked (`$min` on when, normalized text and wording joined); a taken-away contribution leaves its wording, which is
 * shown only while its count is above zero.
 */
export function addToUpdates(updates: Map<string, DayUpdate>, contribution: Contribution, sign: 1 | -1): void {
  const doc = docOfDay(contribution);
  let update = updates.get(doc);
  if (!update) updates.set(doc, (update = emptyUpdate(contribution.d)));
  const { inc } = update;
  const slot = `s.q${contribution.q}.${contribution.ch}`;
  for (const counter in contribution.n) {
    addTo(inc, `${slot}.n.${counter}`, sign * contribution.n[counter as Counter]!);
  }
  if (contribution.lat !== undefined) addTo(inc, `${slot}.lat.b${contribution.lat}`, sign);
  if (contribution.vis) addTo(inc, `${slot}.vis.${contribution.vis}`, sign);
  const top = `t.q${contribution.q}.${contribution.ch}.`;
  const dayTop = `dt.${contribution.ch}.`;
  if (contribution.qs) addQuestion(update, top, dayTop, 'qs', contribution.qs, sign);
  if (contribution.gap) addQuestion(update, top, dayTop, 'gaps', contribution.gap, sign);
  for (const [hash, sourceId, title, url] of contribution.src ?? []) {
    addTo(inc, `${top}src.${hash}`, sign);
    addTo(inc, `${dayTop}src.${hash}`, sign);
    if (sign > 0) update.set[`si.${hash}`] = [sourceId, title, url];
  }
}

/** Adds `by` to a counter of an update; one that comes to zero is left out. */
function addTo(inc: Record<string, number>, path: string, by: number): void {
  const value = (inc[path] ?? 0) + by;
  if (value === 0) delete inc[path];
  else inc[path] = value;
}

/** A question's (or gap's) counts in its quarter's and its day's top list, and the earliest wording when added. */
function addQuestion(
  update: DayUpdate,
  top: string,
  dayTop: string,
  list: 'qs' | 'gaps',
  ref: QuestionRef,
  sign: 1 | -1,
): void {
  addTo(update.inc, `${top}${list}.${ref[0]}`, sign);
  addTo(update.inc, `${dayTop}${list}.${ref[0]}`, sign);
  if (sign < 0) return;
  const path = `w${list}.${ref[0]}`;
  const wording = ref[3] + WORDING_SEPARATOR + ref[1] + WORDING_SEPARATOR + ref[2];
  const kept = update.min[path];
  if (!kept || wording < kept) update.min[path] = wording;
}

/** Whether two contributions (or their absence) are the same. */
export function sameContribution(a: Contribution | null | undefined, b: Contribution | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  const { u: _a, ...restA } = a;
  const { u: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** The days the updates are of. */
export const daysOfUpdates = (updates: Map<string, DayUpdate>) => [
  ...new Set([...updates.values()].map((update) => update.day)),
];

export function isEmptyUpdate(update: DayUpdate): boolean {
  return (
    Object.keys(update.inc).length === 0 && Object.keys(update.min).length === 0 && Object.keys(update.set).length === 0
  );
}

/** Joins when a wording was asked, its normalized text and the wording in a stored wording (ISO times sort). */
export const WORDING_SEPARATOR = '\u0001';
