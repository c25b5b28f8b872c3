/**
 * What both knowledge benches (`knowledge.bench.ts`, `knowledge-index.bench.ts`) share: the same made-up corpus
 * and a full garbage collection between phases.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Deterministic pseudo-random numbers, so every run sees the same corpus. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The bench's one random sequence (seed 42): the corpus and the queries picked from it. */
export const rand = random(42);
const SYLLABLES = 'ka lo mi nu pe ra si to vu wa xe yo za be co di fu ga he ji'.split(' ');
/** 20k made-up words, drawn with a Zipf-like skew as real text is. */
const VOCABULARY = Array.from({ length: 20_000 }, (_, i) => {
  let word = '';
  for (let n = i + 7; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return word;
});
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * rand() ** 3)] ?? 'ka';
const sentence = (words: number) => `${Array.from({ length: words }, word).join(' ')}.`;
/** Six sentences of 8 to 17 words: one chunk's worth of text. */
export const paragraph = () => Array.from({ length: 6 }, () => sentence(8 + Math.floor(rand() * 10))).join(' ');

// A bench-only way to collect garbage, so phases start from (and heap sizes are read after) a collected heap.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Twice: the memory of array buffers freed by one collection is only given back by the next. */
export const collectGarbage = () => {
  gc();
  gc();
};
