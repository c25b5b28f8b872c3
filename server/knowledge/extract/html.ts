import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { cleanText, type Block, type ExtractedDocument } from './blocks.js';

const HEADINGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);
const LEAF_BLOCKS = new Set(['P', 'LI', 'PRE', 'BLOCKQUOTE', 'TD', 'TH', 'DT', 'DD', 'FIGCAPTION', 'CAPTION']);
const SKIPPED = new Set([
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'TEMPLATE',
  'SVG',
  'NAV',
  'FOOTER',
  'HEADER',
  'ASIDE',
  'FORM',
  'BUTTON',
  'IFRAME',
]);
const INLINE = new Set([
  'A',
  'SPAN',
  'STRONG',
  'EM',
  'B',
  'I',
  'U',
  'CODE',
  'KBD',
  'SMALL',
  'SUB',
  'SUP',
  'MARK',
  'ABBR',
  'TIME',
  'BR',
  'LABEL',
  'Q',
  'S',
  'DEL',
  'INS',
]);

/** Parses markup with linkedom, typed as the DOM the extraction libraries expect. */
export function parseDocument(html: string): Document {
  return parseHTML(html).document as unknown as Document;
}

/**
 * Turns HTML into heading and paragraph blocks. Only elements carry structure;
 * loose text inside containers is gathered into paragraphs.
 */
export function htmlBlocks(root: Element): Block[] {
  const blocks: Block[] = [];
  let pending = '';
  const flush = () => {
    const text = cleanText(pending).replace(/\n/g, ' ');
    if (text) blocks.push({ kind: 'text', text });
    pending = '';
  };
  const walk = (node: Element) => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === 3) {
        pending += child.textContent ?? '';
        continue;
      }
      if (child.nodeType !== 1) continue;
      const element = child as Element;
      const tag = element.tagName.toUpperCase();
      if (SKIPPED.has(tag)) continue;
      if (INLINE.has(tag)) {
        pending += tag === 'BR' ? '\n' : (element.textContent ?? '');
      } else if (HEADINGS.has(tag)) {
        flush();
        const text = cleanText(element.textContent ?? '').replace(/\n/g, ' ');
        const anchor = element.getAttribute('id') || element.querySelector('[id]')?.getAttribute('id') || null;
        if (text) blocks.push({ kind: 'heading', level: Number(tag.slice(1)), text, anchor });
      } else if (LEAF_BLOCKS.has(tag)) {
        flush();
        const raw = element.textContent ?? '';
        const text = tag === 'PRE' ? raw.trim() : cleanText(raw).replace(/\n/g, ' ');
        if (text) blocks.push({ kind: 'text', text });
      } else {
        flush();
        walk(element);
        flush();
      }
    }
  };
  walk(root);
  flush();
  return blocks;
}

/** Links of a page, absolute, without fragments; read before Readability rewrites the document. */
function pageLinks(document: Document, baseUrl: string): string[] {
  const links = new Set<string>();
  for (const anchor of Array.from(document.querySelectorAll('a[href]'))) {
    try {
      const target = new URL(anchor.getAttribute('href') ?? '', baseUrl);
      target.hash = '';
      if (target.protocol === 'http:' || target.protocol === 'https:') links.add(target.href);
    } catch {
      // An unparseable href is not a link we can follow; skip it.
    }
  }
  return [...links];
}

/**
 * The readable part of a web page: Readability removes navigation, footers and
 * other boilerplate; when it finds no article, the body (minus boilerplate tags) is used.
 */
export function extractHtml(html: string, baseUrl: string | null): ExtractedDocument & { links: string[] } {
  const document = parseDocument(html);
  const links = baseUrl ? pageLinks(document, baseUrl) : [];
  const pageTitle = cleanText(document.querySelector('title')?.textContent ?? '') || null;
  const article = new Readability(document, { charThreshold: 200 }).parse();
  let blocks: Block[] = [];
  if (article?.content) {
    const content = parseDocument(`<!doctype html><html><body>${article.content}</body></html>`);
    blocks = htmlBlocks(content.body);
  }
  if (blocks.length === 0) {
    // Readability rewrote `document` in place, so the fallback reads a fresh parse of the page.
    const fallback = parseDocument(html);
    if (fallback.body) blocks = htmlBlocks(fallback.body);
  }
  const title = cleanText(article?.title ?? '') || pageTitle || firstHeading(blocks);
  return { title, blocks, links };
}

function firstHeading(blocks: Block[]): string | null {
  const heading = blocks.find((block) => block.kind === 'heading');
  return heading ? heading.text : null;
}
