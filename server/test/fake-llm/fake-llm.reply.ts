/**
 * Deterministic reply building for the fake LLM, so tests can predict and
 * assert on exactly what the "model" says.
 */
import { isJsonObject } from './fake-llm.http.js';

/** A chat message reduced to its role and plain text. */
export interface PlainMessage {
  role: string;
  text: string;
}

/** Behaviour switches found in the last user message (see `startFakeLlm` JSDoc). */
export interface Markers {
  fail500: boolean;
  slow: boolean;
  die: boolean;
  dieOnce: boolean;
  stall: boolean;
  long: boolean;
}

/** Words taken from the first passage in a "Based on [n]" reply. */
const PASSAGE_WORDS = 12;
/** Number of words in the `#long` reply. */
const LONG_REPLY_WORDS = 60;
const LONG_SENTENCE =
  'This is a deliberately long answer from the fake model so that tests can exercise scrolling, streaming and truncation.';

/** Text of a message `content`: a string, or the text parts of a content-part array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => (isJsonObject(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** Normalises the request's `messages`; returns `null` when it is not an array. */
export function plainMessages(messages: unknown): PlainMessage[] | null {
  if (!Array.isArray(messages)) return null;
  return messages.filter(isJsonObject).map((m) => ({
    role: typeof m.role === 'string' ? m.role : '',
    text: contentText(m.content),
  }));
}

/** Whitespace-separated words; the fake's stand-in for tokens in `usage`. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

/** Splits a reply into stream tokens, each word keeping its leading space: "Hello", " world". */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Content of the last `user` message ('' when there is none). */
export function lastUserText(messages: PlainMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return message.text;
  }
  return '';
}

/** Reads the `#marker` switches from the last user message. */
export function findMarkers(messages: PlainMessage[]): Markers {
  const text = lastUserText(messages);
  const has = (name: string): boolean => new RegExp(`#${name}\\b`).test(text);
  return {
    fail500: has('fail500'),
    slow: has('slow'),
    die: has('die'),
    dieOnce: has('dieonce'),
    stall: has('stall'),
    long: has('long'),
  };
}

/**
 * The lowest-numbered passage in the system messages. A passage starts at a
 * line beginning with `[n]` and runs until the next such line, so prose like
 * "cite sources as [1]" inside a sentence is not mistaken for a passage.
 */
export function firstPassage(messages: PlainMessage[]): { n: number; text: string } | null {
  const lines = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => m.text)
    .join('\n')
    .split('\n');
  const passages: { n: number; text: string }[] = [];
  for (const line of lines) {
    const start = /^\s*\[(\d+)\]\s*(.*)$/.exec(line);
    const current = passages[passages.length - 1];
    if (start) passages.push({ n: Number(start[1]), text: start[2] ?? '' });
    else if (current) current.text += `\n${line}`;
  }
  if (passages.length === 0) return null;
  return passages.reduce((best, p) => (p.n < best.n ? p : best));
}

/** 60 words of filler, built by repeating one sentence. */
export function longReply(): string {
  const words = LONG_SENTENCE.split(' ');
  return Array.from({ length: LONG_REPLY_WORDS }, (_, i) => words[i % words.length]).join(' ');
}

/**
 * The reply text, first rule that applies:
 * 1. `override` (set via `setReply`);
 * 2. `#long` marker → a 60-word filler reply;
 * 3. system message(s) hold numbered passages (`[1] ...` at line start) →
 *    `Based on [1]: <first 12 words of that passage>` (lowest number wins);
 * 4. otherwise `Echo: <last user message content>`.
 */
export function buildReply(messages: PlainMessage[], markers: Markers, override: string | null): string {
  if (override !== null) return override;
  if (markers.long) return longReply();
  const passage = firstPassage(messages);
  if (passage) {
    const words = passage.text
      .split(/\s+/)
      .filter((w) => w !== '')
      .slice(0, PASSAGE_WORDS);
    return `Based on [${passage.n}]: ${words.join(' ')}`;
  }
  return `Echo: ${lastUserText(messages)}`;
}
