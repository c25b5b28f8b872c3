import { paragraphs, type ExtractedDocument } from './blocks.js';
import { extractDocx } from './docx.js';
import { extractHtml } from './html.js';
import { extractMarkdown } from './markdown.js';
import { extractPdf } from './pdf.js';

/** The document formats sources are read from. */
export type DocumentKind = 'pdf' | 'docx' | 'html' | 'markdown' | 'text';

const BY_EXTENSION: Record<string, DocumentKind> = {
  pdf: 'pdf',
  docx: 'docx',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
  text: 'text',
};

/** The MIME type stored for each kind. */
export const KIND_MIME: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  html: 'text/html',
  markdown: 'text/markdown',
  text: 'text/plain',
};

/**
 * What a file or response holds, from its leading bytes first (a PDF or a ZIP
 * cannot pass for text), then its declared type, then its name.
 */
export function detectKind(data: Buffer, mimeType: string, fileName: string | null): DocumentKind | null {
  const mime = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  const extension = fileName?.split('.').pop()?.toLowerCase() ?? '';
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (data.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004') {
    return mime === KIND_MIME.docx || extension === 'docx' ? 'docx' : null;
  }
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  if (mime === 'text/markdown' || mime === 'text/x-markdown') return 'markdown';
  const byName = BY_EXTENSION[extension];
  if (byName && byName !== 'pdf' && byName !== 'docx') return byName;
  if (mime === 'text/plain') return 'text';
  if (!mime || mime === 'application/octet-stream') {
    // Undeclared bytes are read as text only when they look like text.
    return data.subarray(0, 4096).includes(0) ? null : 'text';
  }
  return null;
}

/** Readable blocks of a document of a known kind. */
export async function extractDocument(
  kind: DocumentKind,
  data: Buffer,
  url: string | null = null,
): Promise<ExtractedDocument & { links: string[] }> {
  switch (kind) {
    case 'pdf':
      return { ...(await extractPdf(data)), links: [] };
    case 'docx':
      return { ...(await extractDocx(data)), links: [] };
    case 'html':
      return extractHtml(data.toString('utf8'), url);
    case 'markdown':
      return { ...extractMarkdown(data.toString('utf8')), links: [] };
    case 'text':
      return { title: null, blocks: paragraphs(data.toString('utf8')), links: [] };
  }
}
