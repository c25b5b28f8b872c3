import { cleanText, type Block, type ExtractedDocument } from './blocks.js';

/** GitHub-style heading anchor: lowercase words joined by hyphens. */
function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s+/g, '-');
}

/**
 * Headings (ATX `#` and setext underlines), paragraphs and fenced code of a
 * Markdown document. Inline markup is kept as written: it reads fine as text.
 */
export function extractMarkdown(markdown: string): ExtractedDocument {
  const blocks: Block[] = [];
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  let fence: string[] | null = null;
  const flush = () => {
    const text = cleanText(paragraph.join('\n')).replace(/\n/g, ' ');
    if (text) blocks.push({ kind: 'text', text });
    paragraph = [];
  };
  const heading = (level: number, raw: string) => {
    const text = cleanText(raw.replace(/\s+#+\s*$/, ''));
    if (text) blocks.push({ kind: 'heading', level, text, anchor: headingSlug(text) });
  };
  for (const line of lines) {
    if (fence) {
      if (/^\s*(```|~~~)/.test(line)) {
        blocks.push({ kind: 'text', text: fence.join('\n').trim() });
        fence = null;
      } else fence.push(line);
      continue;
    }
    if (/^\s*(```|~~~)/.test(line)) {
      flush();
      fence = [];
      continue;
    }
    const atx = /^\s{0,3}(#{1,6})\s+(.*)$/.exec(line);
    if (atx) {
      flush();
      heading(atx[1]?.length ?? 1, atx[2] ?? '');
      continue;
    }
    const setext = /^\s{0,3}(=+|-+)\s*$/.exec(line);
    if (setext && paragraph.length === 1) {
      const [text = ''] = paragraph;
      paragraph = [];
      heading(setext[1]?.startsWith('=') ? 1 : 2, text);
      continue;
    }
    if (line.trim() === '') flush();
    // List items start new paragraphs so each stays a unit.
    else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      flush();
      paragraph.push(line.replace(/^\s*([-*+]|\d+[.)])\s+/, ''));
    } else paragraph.push(line);
  }
  if (fence) blocks.push({ kind: 'text', text: fence.join('\n').trim() });
  flush();
  const first = blocks.find((block) => block.kind === 'heading' && block.level === 1);
  return { title: first ? first.text : null, blocks: blocks.filter((block) => block.text !== '') };
}
