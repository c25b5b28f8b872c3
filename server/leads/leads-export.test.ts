import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { CSV_COLUMNS } from './leads-csv.js';

// A full collection before each sample measures what the server holds, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const TOTAL = 10_000;
const HYPERLINK = '=HYPERLINK("http://evil.example","click")';

/** Parses RFC 4180 text into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted && char === '"' && text[i + 1] === '"') {
      cell += '"';
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (!quoted && char === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else {
      cell += char;
    }
  }
  return rows;
}

/** A lead document as the store holds it, for bulk inserts. */
function leadDoc(org: TestOrg, bot: ChatbotDto, i: number, overrides: Record<string, unknown> = {}) {
  return {
    organizationId: new Types.ObjectId(org.id),
    chatbotId: new Types.ObjectId(bot.id),
    dedupeKey: `email:lead${i}@bulk.example`,
    email: `lead${i}@bulk.example`,
    name: `Lead ${i}`,
    phone: null,
    company: 'Bulk Ltd',
    custom: { notes: `note ${i} `.padEnd(1_500, 'x') },
    consent: { given: true, text: 'I agree', at: new Date('2025-01-01T00:00:00Z') },
    pageUrl: 'https://shop.example/',
    referrer: null,
    userAgent: 'Bulk/1.0',
    locale: 'en',
    visitorId: `visitor-${i}`,
    conversationIds: [],
    createdAt: new Date(Date.UTC(2025, 0, 1) + i * 1000),
    updatedAt: new Date(Date.UTC(2025, 0, 1) + i * 1000),
    ...overrides,
  };
}

describe('exporting leads as CSV', () => {
  let t: TestApp;
  let org: TestOrg;
  let bulkBot: ChatbotDto;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Exporter');
    bulkBot = (await org.api.post<ChatbotDto>('/api/v1/chatbots', { name: 'Bulk' })).body.data;
    for (let start = 0; start < TOTAL; start += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, k) => {
        const i = start + k;
        return leadDoc(org, bulkBot, i, i % 1_000 === 500 ? { name: HYPERLINK } : {});
      });
      await t.app.models.Lead.insertMany(batch, { lean: true });
    }
  }, 120_000);
  afterAll(() => t.stop());

  const exportUrl = (query: string) => `${t.url}/api/v1/leads/export.csv${query}`;

  it('quotes per RFC 4180 and neutralises cells that spreadsheets would run as formulas', async () => {
    const bot = (await org.api.post<ChatbotDto>('/api/v1/chatbots', { name: 'Tricky' })).body.data;
    await t.app.models.Lead.insertMany(
      [
        leadDoc(org, bot, 1, { name: HYPERLINK, company: '+SUM(A1:A9)', phone: '-2+3', custom: {} }),
        leadDoc(org, bot, 2, { name: 'Smith, "Jo"\r\nline two', company: '@cmd', phone: '\tcmd', custom: {} }),
        leadDoc(org, bot, 3, { name: null, company: 'a=b', phone: '+44 20 7946 0958', custom: { notes: '=1+1' } }),
      ],
      { lean: true },
    );
    const res = await fetch(exportUrl(`?chatbotId=${bot.id}`), { headers: org.api.headers() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="leads-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...CSV_COLUMNS]);
    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const cells = rows.map((row) => [row[column('name')], row[column('company')], row[column('phone')]]);
    expect(cells).toEqual([
      ['', 'a=b', "'+44 20 7946 0958"],
      ['Smith, "Jo"\r\nline two', "'@cmd", "'\tcmd"],
      [`'${HYPERLINK}`, "'+SUM(A1:A9)", "'-2+3"],
    ]);
    expect(rows[0]?.[column('custom')]).toBe('{"notes":"=1+1"}');
    expect(rows.every((row) => row.length === CSV_COLUMNS.length)).toBe(true);
  });

  it(`streams ${TOTAL.toLocaleString('en')} leads in pieces while the server's memory stays flat`, async () => {
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    const res = await fetch(exportUrl(`?chatbotId=${bulkBot.id}`), { headers: org.api.headers() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let bytes = 0;
    let rows = 0;
    let escapedLinks = 0;
    let tail = '';
    let peakGrowth = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks += 1;
      bytes += value.byteLength;
      // Only the unfinished last line is kept between pieces, so the test holds no more than the server.
      const lines = (tail + decoder.decode(value, { stream: true })).split('\r\n');
      tail = lines.pop() ?? '';
      rows += lines.length;
      escapedLinks += lines.filter((line) => line.includes(`"'=HYPERLINK(""http://evil.example""`)).length;
      if (chunks % 25 === 0) {
        collectGarbage();
        peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(tail).toBe('');
    expect(rows).toBe(TOTAL + 1);
    expect(escapedLinks).toBe(TOTAL / 1_000);
    expect(bytes).toBeGreaterThan(TOTAL * 1_500);
    expect(chunks).toBeGreaterThan(50);
    // The export is over 15 MB: holding it, or its documents, shows up here far past this bound.
    expect(peakGrowth, `peak heap growth of ${peakGrowth} bytes for ${bytes} bytes of CSV`).toBeLessThan(8 * 2 ** 20);
  });
});
