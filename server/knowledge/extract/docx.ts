import mammoth from 'mammoth';
import type { ExtractedDocument } from './blocks.js';
import { htmlBlocks, parseDocument } from './html.js';

/** A Word document through mammoth's HTML, so its heading styles become headings. */
export async function extractDocx(data: Buffer): Promise<ExtractedDocument> {
  const { value } = await mammoth.convertToHtml({ buffer: data });
  const document = parseDocument(`<!doctype html><html><body>${value}</body></html>`);
  const blocks = htmlBlocks(document.body);
  const first = blocks.find((block) => block.kind === 'heading');
  return { title: first ? first.text : null, blocks };
}
