import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseEvent } from '../src/index.js';

/** Feeds `text` to a parser in pieces of `size` characters, as a network might split it. */
function parseInPieces(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  return [...events, ...parser.end()];
}

describe('the SSE parser', () => {
  it('skips comments, joins multi-line data with newlines and reads event names and ids', () => {
    const text = ': keep-alive\n\nevent: update\nid: 7\ndata: first line\ndata:second line\n\ndata: {"chunk":"a"}\n\n';
    const expected = [
      { event: 'update', data: 'first line\nsecond line', id: '7', retry: null },
      { event: 'message', data: '{"chunk":"a"}', id: '7', retry: null },
    ];
    for (const size of [1, 2, 3, 7, text.length]) expect(parseInPieces(text, size)).toEqual(expected);
  });

  it('takes CRLF, CR and LF line ends alike, even when a CRLF is split between pieces', () => {
    const text = 'data: one\r\n\r\ndata: two\r\rdata: three\n\n';
    for (const size of [1, 2, 5, text.length]) {
      expect(parseInPieces(text, size).map((e) => e.data)).toEqual(['one', 'two', 'three']);
    }
  });

  it('strips one space after the colon only, keeps empty data lines, and reads retry', () => {
    const events = parseInPieces('retry: 3000\ndata:  two spaces\ndata\ndata:\n\n', 4);
    expect(events).toEqual([{ event: 'message', data: ' two spaces\n\n', id: null, retry: 3000 }]);
  });

  it('dispatches no event without data, ignores a leading BOM and drops an event never closed', () => {
    expect(parseInPieces('\uFEFFevent: ping\n\ndata: kept\n\ndata: unfinished', 3).map((e) => e.data)).toEqual([
      'kept',
    ]);
  });

  it('reads a byte stream whose UTF-8 characters are split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: SseEvent[] = [];
    for await (const event of readSse(body)) events.push(event);
    expect(events.map((e) => e.data)).toEqual(['héllo ✓']);
  });
});
