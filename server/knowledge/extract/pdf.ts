import { extractText, getDocumentProxy } from 'unpdf';
import { paragraphs, type Block, type ExtractedDocument } from './blocks.js';

/** Text of each page of a PDF, as paragraphs anchored to their page (`#page=N` opens it there). */
export async function extractPdf(data: Buffer): Promise<ExtractedDocument> {
  // Verbosity 0: pdf.js otherwise prints repair warnings for damaged files straight to the console.
  const pdf = await getDocumentProxy(new Uint8Array(data), { verbosity: 0 });
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    const metadata = await pdf.getMetadata().catch(() => null);
    const info = (metadata?.info ?? {}) as { Title?: unknown };
    const blocks: Block[] = text.flatMap((page, index) => paragraphs(page, `page=${index + 1}`));
    return { title: typeof info.Title === 'string' && info.Title.trim() ? info.Title.trim() : null, blocks };
  } finally {
    await pdf.destroy();
  }
}
