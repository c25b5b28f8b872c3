import { describe, expect, it } from 'vitest';
import { chunkDocument, estimateTokens } from './chunker.js';
import type { Block } from './extract/blocks.js';
import { extractMarkdown } from './extract/markdown.js';

const sentence = (n: number) => `Sentence number ${n} carries a fact about topic ${n} for the reader.`;

describe('chunking', () => {
  it('starts a chunk at every heading and keeps the heading path, anchor and position', () => {
    const { blocks } = extractMarkdown('# Guide\n\nIntro text.\n\n## Setup\n\nInstall it.\n\n### Linux\n\nUse apt.');
    const chunks = chunkDocument({ title: 'Guide', url: 'https://x.test/guide', blocks });
    expect(chunks.map((c) => [c.heading, c.anchor, c.text, c.position])).toEqual([
      ['Guide', 'guide', 'Intro text.', 0],
      ['Guide › Setup', 'setup', 'Install it.', 1],
      ['Guide › Setup › Linux', 'linux', 'Use apt.', 2],
    ]);
    expect(chunks.every((c) => c.url === 'https://x.test/guide' && c.title === 'Guide')).toBe(true);
  });

  it('fills chunks to the token budget and repeats the last sentences of a split section', () => {
    const blocks: Block[] = Array.from({ length: 40 }, (_, i) => ({ kind: 'text', text: sentence(i) }));
    const chunks = chunkDocument({ title: 'Long', url: null, blocks }, { maxTokens: 100, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(100);
    for (let i = 1; i < chunks.length; i += 1) {
      const lastOfPrevious = chunks[i - 1]!.text.split('\n\n').at(-1)!;
      expect(chunks[i]!.text.startsWith(lastOfPrevious)).toBe(true);
    }
    const all = chunks.map((c) => c.text).join(' ');
    for (let i = 0; i < 40; i += 1) expect(all).toContain(sentence(i));
  });

  it('splits a paragraph longer than the budget at sentences, and a giant sentence at words', () => {
    const paragraph = Array.from({ length: 30 }, (_, i) => sentence(i)).join(' ');
    const giant = 'word '.repeat(2_000).trim();
    const chunks = chunkDocument(
      {
        title: 'T',
        url: null,
        blocks: [
          { kind: 'text', text: paragraph },
          { kind: 'text', text: giant },
        ],
      },
      { maxTokens: 120, overlapTokens: 0 },
    );
    expect(chunks.every((c) => estimateTokens(c.text) <= 120)).toBe(true);
    expect(
      chunks
        .map((c) => c.text)
        .join(' ')
        .split(/\s+/)
        .filter((w) => w === 'word'),
    ).toHaveLength(2_000);
  });
});
