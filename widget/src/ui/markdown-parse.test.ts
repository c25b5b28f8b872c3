import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref } from './markdown-parse.js';

describe('the widget markdown subset', () => {
  it('keeps raw HTML as text', () => {
    expect(parseInline('<img src=x onerror=alert(1)>')).toEqual([{ t: 'text', v: '<img src=x onerror=alert(1)>' }]);
  });

  it('turns a javascript: link into its label as plain text', () => {
    expect(parseInline('[x](javascript:alert(1))')).toEqual([
      { t: 'text', v: 'x' },
      { t: 'text', v: ')' },
    ]);
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('/relative')).toBeNull();
  });

  it('keeps http(s) and mailto links, and links bare URLs', () => {
    expect(parseInline('[docs](https://example.com/a?b=1)')).toEqual([
      { t: 'link', href: 'https://example.com/a?b=1', c: [{ t: 'text', v: 'docs' }] },
    ]);
    expect(parseInline('mail [us](mailto:help@example.com)')[1]).toMatchObject({
      t: 'link',
      href: 'mailto:help@example.com',
    });
    expect(parseInline('see https://example.com/x.')).toEqual([
      { t: 'text', v: 'see ' },
      { t: 'link', href: 'https://example.com/x', c: [{ t: 'text', v: 'https://example.com/x' }] },
      { t: 'text', v: '.' },
    ]);
  });

  it('parses bold, italic, code and line breaks', () => {
    expect(parseInline('**a** *b* _c_ `d`\ne')).toEqual([
      { t: 'strong', c: [{ t: 'text', v: 'a' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'b' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'c' }] },
      { t: 'text', v: ' ' },
      { t: 'code', v: 'd' },
      { t: 'br' },
      { t: 'text', v: 'e' },
    ]);
    expect(parseInline('snake_case_name stays')).toEqual([{ t: 'text', v: 'snake_case_name stays' }]);
  });

  it('splits blocks: paragraphs, lists, headings and fenced code (even unclosed while streaming)', () => {
    const blocks = parseMarkdown('# Title\nIntro line\n\n- one\n- two\n1. first\n\n```\n<b>code</b>');
    expect(blocks.map((b) => b.t)).toEqual(['h', 'p', 'ul', 'ol', 'pre']);
    expect(blocks[2]).toMatchObject({ items: [[{ t: 'text', v: 'one' }], [{ t: 'text', v: 'two' }]] });
    expect(blocks[4]).toEqual({ t: 'pre', v: '<b>code</b>' });
  });
});
