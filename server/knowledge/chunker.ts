import type { Block } from './extract/blocks.js';

/** A passage ready to be stored and indexed. */
export interface ChunkDraft {
  position: number;
  title: string;
  /** Heading path inside the document, e.g. "Billing › Refunds". */
  heading: string;
  url: string | null;
  anchor: string | null;
  text: string;
  tokens: number;
}

export interface ChunkOptions {
  /** Most tokens in one chunk. */
  maxTokens: number;
  /** Tokens of a chunk's end repeated at the start of the next one when a section is split. */
  overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { maxTokens: 280, overlapTokens: 40 };

/**
 * Tokens as most BPE tokenizers count English prose (about four characters each);
 * close enough for budgeting without shipping a tokenizer.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?…])\s+(?=\S)/u).filter(Boolean);
}

/** Pieces of a paragraph that each fit the budget: sentences, and words for a sentence that is too long. */
function fitPieces(text: string, maxTokens: number): string[] {
  if (estimateTokens(text) <= maxTokens) return [text];
  const pieces: string[] = [];
  for (const sentence of sentences(text)) {
    if (estimateTokens(sentence) <= maxTokens) {
      pieces.push(sentence);
      continue;
    }
    let current = '';
    for (const word of sentence.split(/\s+/)) {
      const next = current ? `${current} ${word}` : word;
      if (estimateTokens(next) > maxTokens && current) {
        pieces.push(current);
        current = word.slice(0, maxTokens * 4);
      } else current = next.slice(0, maxTokens * 4);
    }
    if (current) pieces.push(current);
  }
  return pieces;
}

/** The last sentences of a chunk, up to the overlap budget, to carry into the next one. */
function overlapTail(parts: string[], overlapTokens: number): string[] {
  if (overlapTokens <= 0) return [];
  const all = parts.flatMap((part) => sentences(part));
  const tail: string[] = [];
  let tokens = 0;
  for (let i = all.length - 1; i >= 0; i -= 1) {
    const sentence = all[i] ?? '';
    tokens += estimateTokens(sentence);
    if (tokens > overlapTokens) break;
    tail.unshift(sentence);
  }
  return tail.length > 0 ? [tail.join(' ')] : [];
}

/**
 * Splits a document by its structure: a heading always starts a new chunk, paragraphs
 * fill a chunk up to the token budget, and a section split for size repeats its last
 * sentences at the start of the next chunk so no answer is cut in half.
 */
export function chunkDocument(
  document: { title: string; url: string | null; blocks: Block[] },
  options: ChunkOptions = DEFAULT_CHUNKING,
  firstPosition = 0,
): ChunkDraft[] {
  const chunks: ChunkDraft[] = [];
  const path: string[] = [];
  let sectionAnchor: string | null = null;
  let chunkAnchor: string | null = null;
  let parts: string[] = [];
  let tokens = 0;
  // Parts carried over as overlap; a chunk made only of them adds nothing new.
  let carried = 0;

  const emit = () => {
    if (parts.length > carried) {
      const text = parts.join('\n\n');
      chunks.push({
        position: firstPosition + chunks.length,
        title: document.title,
        heading: path.filter(Boolean).join(' › '),
        url: document.url,
        anchor: chunkAnchor,
        text,
        tokens: estimateTokens(text),
      });
    }
  };
  const startNew = (carry: string[]) => {
    parts = carry;
    carried = carry.length;
    tokens = carry.reduce((sum, part) => sum + estimateTokens(part), 0);
    chunkAnchor = sectionAnchor;
  };

  for (const block of document.blocks) {
    if (block.kind === 'heading') {
      emit();
      path.length = Math.max(0, block.level - 1);
      path[block.level - 1] = block.text;
      sectionAnchor = block.anchor;
      startNew([]);
      continue;
    }
    if (block.anchor) {
      sectionAnchor = block.anchor;
      if (parts.length === carried) chunkAnchor = block.anchor;
    }
    for (const piece of fitPieces(block.text, options.maxTokens)) {
      const pieceTokens = estimateTokens(piece);
      if (tokens + pieceTokens > options.maxTokens && parts.length > carried) {
        emit();
        const carry = overlapTail(parts.slice(carried), options.overlapTokens);
        startNew(carry.length > 0 && estimateTokens(carry[0] ?? '') + pieceTokens <= options.maxTokens ? carry : []);
      }
      if (parts.length === 0) chunkAnchor = sectionAnchor;
      parts.push(piece);
      tokens += pieceTokens;
    }
  }
  emit();
  return chunks;
}
