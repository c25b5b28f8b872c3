import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { buildDocx, buildPdf } from './test/documents.js';
import { createBot, FAST_QUEUE_ENV, uploadFile, waitForSource } from './test/knowledge-client.js';
import { htmlPage } from './test/test-site.js';

const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('file sources', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...FAST_QUEUE_ENV, KNOWLEDGE_MAX_UPLOAD_BYTES: '50000' } });
    org = await t.createOrg();
    botId = await createBot(org.api);
  });
  afterAll(() => t.stop());

  const retrieve = (query: string) =>
    t.app.services.knowledge.retriever.retrieve({ chatbotId: botId, organizationId: org.id }, query);

  it('reads the text of every page of a PDF, titled from its metadata', async () => {
    const pdf = buildPdf(
      [
        ['Product manual', 'Unpack the device and charge it fully.'],
        ['Troubleshooting', 'If the light blinks red, hold the reset button for ten seconds.'],
      ],
      'Device manual',
    );
    const res = await uploadFile(org.api, botId, { name: 'manual.pdf', type: 'application/pdf', data: pdf });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      type: 'file',
      status: 'queued',
      file: { name: 'manual.pdf', mimeType: 'application/pdf', size: pdf.length },
    });
    const ready = await waitForSource(org.api, res.body.data.id);
    expect(ready).toMatchObject({ status: 'ready', title: 'Device manual' });
    expect(ready.counts.pages).toBe(1);
    const found = await retrieve('the light blinks red');
    expect(found.passages[0]?.sourceId).toBe(ready.id);
    expect(found.passages[0]?.text).toContain('reset button');
    expect(found.passages[0]?.text).toContain('charge it fully');
  });

  it('reads a Word document with its headings', async () => {
    const docx = buildDocx([
      { heading: 'Travel policy' },
      { text: 'Economy class is booked for flights under six hours.' },
      { heading: 'Meals' },
      { text: 'Meals are reimbursed up to 40 euros per day.' },
    ]);
    const res = await uploadFile(org.api, botId, { name: 'policy.docx', type: DOCX_MIME, data: docx }, 'Travel');
    expect(res.status).toBe(202);
    const ready = await waitForSource(org.api, res.body.data.id);
    expect(ready).toMatchObject({ status: 'ready', title: 'Travel' });
    const found = await retrieve('How much are meals reimbursed per day?');
    expect(found.passages[0]).toMatchObject({ sourceId: ready.id, title: 'Travel › Meals' });
  });

  it('reads Markdown, HTML and plain text files', async () => {
    const files = [
      {
        name: 'faq.md',
        type: 'text/markdown',
        data: Buffer.from('# FAQ\n\n## Pets\n\nDogs are welcome on the terrace.'),
      },
      {
        name: 'page.html',
        type: 'text/html',
        data: Buffer.from(
          htmlPage('Parking', [
            {
              heading: 'Garage',
              paragraphs: [
                'The garage under the building has two hundred spaces for visitors and staff, open every day of the year.',
                'Parking costs three euros per hour for visitors.',
              ],
            },
          ]),
        ),
      },
      { name: 'notes.txt', type: 'text/plain', data: Buffer.from('The wifi password is printed on the router.') },
    ];
    for (const [file, question, expected] of [
      [files[0], 'Are dogs welcome?', 'Dogs are welcome'],
      [files[1], 'How much does parking cost?', 'three euros per hour'],
      [files[2], 'Where is the wifi password?', 'printed on the router'],
    ] as const) {
      const res = await uploadFile(org.api, botId, file!);
      expect(res.status).toBe(202);
      const ready = await waitForSource(org.api, res.body.data.id);
      expect(ready.status).toBe('ready');
      const found = await retrieve(question);
      expect(found.passages[0]?.sourceId).toBe(ready.id);
      expect(found.passages[0]?.text).toContain(expected);
    }
  });

  it('answers 413 for a file over the size limit', async () => {
    const res = await uploadFile(org.api, botId, {
      name: 'big.txt',
      type: 'text/plain',
      data: Buffer.alloc(60_000, 97),
    });
    expect(res.status).toBe(413);
    expect(res.body.error?.name).toBe('PayloadTooLargeError');
  });

  it('answers 415 for a file type it cannot read', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const res = await uploadFile(org.api, botId, { name: 'logo.png', type: 'image/png', data: png });
    expect(res.status).toBe(415);
    expect(res.body.error?.name).toBe('UnsupportedMediaTypeError');
  });

  it('fails a corrupt PDF with a reason instead of retrying forever', async () => {
    const broken = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from('garbage'.repeat(20))]);
    const res = await uploadFile(org.api, botId, { name: 'broken.pdf', type: 'application/pdf', data: broken });
    const failed = await waitForSource(org.api, res.body.data.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toBe('the PDF file could not be read');
  });
});
