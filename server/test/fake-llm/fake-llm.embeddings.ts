/**
 * Deterministic embeddings for the fake LLM: a signed, hashed bag of words
 * and word bigrams, L2-normalised. Texts sharing words get a higher cosine
 * similarity, which is enough for retrieval tests to rank sensibly.
 */
import type { BodyResult, JsonObject } from './fake-llm.http.js';
import { isJsonObject } from './fake-llm.http.js';
import { countWords } from './fake-llm.reply.js';

/** Common words dropped so unrelated sentences do not look alike through "the", "is", ... */
const STOPWORDS = new Set(
  (
    'a an and are as at be by do does for from has have how i in is it its me my of on or our ' +
    'so that the their this to was we what when where which who why will with you your'
  ).split(' '),
);
/** Bigrams refine word order a little without dominating single words. */
const BIGRAM_WEIGHT = 0.5;
/** Largest `dimensions` accepted, to keep a typo from allocating huge arrays. */
const MAX_DIMS = 4096;

/** 32-bit FNV-1a; stable across runs and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Lowercased content words of `text` (letters and digits, any script). */
export function embeddingWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '' && !STOPWORDS.has(w));
}

/** Adds `weight` to the bucket of `feature`; the sign bit makes collisions cancel out on average. */
function addFeature(vector: number[], feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const bucket = hash % vector.length;
  const sign = hash & 0x80000000 ? -1 : 1;
  vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
}

/**
 * Embeds `text` into a unit vector of `dims` numbers. A text without content
 * words maps to a fixed unit vector, since a zero vector makes cosine NaN.
 */
export function embedText(text: string, dims: number): number[] {
  const vector = new Array<number>(dims).fill(0);
  const words = embeddingWords(text);
  words.forEach((word, i) => {
    addFeature(vector, `w:${word}`, 1);
    const next = words[i + 1];
    if (next !== undefined) addFeature(vector, `b:${word} ${next}`, BIGRAM_WEIGHT);
  });
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

/** Float32 little-endian base64, the format of `encoding_format: 'base64'`. */
export function toBase64Float32(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/** Normalises `input` to a list of strings; `null` when it is neither a string nor a string[]. */
function inputTexts(input: unknown): string[] | null {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === 'string')) {
    return input as string[];
  }
  return null;
}

/**
 * Builds the `/v1/embeddings` response for a parsed request body, or an
 * error (status + message) for a malformed one.
 */
export function embeddingsResponse(body: unknown, defaultDims: number): BodyResult {
  if (!isJsonObject(body)) return { ok: false, status: 400, message: 'Request body must be a JSON object.' };
  const texts = inputTexts(body.input);
  if (!texts) return { ok: false, status: 400, message: "'input' must be a non-empty string or array of strings." };
  const dims = body.dimensions ?? defaultDims;
  if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > MAX_DIMS) {
    return { ok: false, status: 400, message: `'dimensions' must be an integer between 1 and ${MAX_DIMS}.` };
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return { ok: false, status: 400, message: "'encoding_format' must be 'float' or 'base64'." };
  }
  const data = texts.map((text, index) => {
    const vector = embedText(text, dims);
    return { object: 'embedding', index, embedding: format === 'base64' ? toBase64Float32(vector) : vector };
  });
  const tokens = texts.reduce((sum, text) => sum + countWords(text), 0);
  const response: JsonObject = {
    object: 'list',
    data,
    model: typeof body.model === 'string' ? body.model : 'fake-embed',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
  return { ok: true, value: response };
}
