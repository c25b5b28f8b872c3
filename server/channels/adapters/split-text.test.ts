import { describe, expect, it } from 'vitest';
import { splitText } from './split-text.js';

describe('splitText', () => {
  it('keeps a short answer whole', () => {
    expect(splitText('Hello there', 4096)).toEqual(['Hello there']);
  });

  it('cuts a long answer at paragraph, then word breaks, each part within the limit', () => {
    const text = `${'a '.repeat(30).trim()}\n\n${'b '.repeat(30).trim()}`;
    const parts = splitText(text, 70);
    expect(parts).toEqual(['a '.repeat(30).trim(), 'b '.repeat(30).trim()]);
    const words = splitText('word '.repeat(50), 32);
    expect(words.every((part) => part.length <= 32)).toBe(true);
    expect(words.join(' ')).toBe('word '.repeat(50).trim());
  });

  it('cuts text without breaks at the limit', () => {
    expect(splitText('x'.repeat(10), 4)).toEqual(['xxxx', 'xxxx', 'xx']);
  });
});
