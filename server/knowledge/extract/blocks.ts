/** A structural piece of a document, in reading order: what the chunker splits on. */
export type Block =
  | { kind: 'heading'; level: number; text: string; anchor: string | null }
  | { kind: 'text'; text: string; anchor?: string | null };

/** The readable content of one document or page. */
export interface ExtractedDocument {
  title: string | null;
  blocks: Block[];
}

/** Collapses runs of whitespace inside a line of prose. */
export function cleanText(text: string): string {
  return text
    .replace(/\u00a0/g, ' ')
    .replace(/[ \t\f\v\r]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
}

/** Splits plain prose into paragraph blocks on blank lines. */
export function paragraphs(text: string, anchor: string | null = null): Block[] {
  return text
    .split(/\n\s*\n/)
    .map((part) => cleanText(part).replace(/\n/g, ' '))
    .filter(Boolean)
    .map((part, index) =>
      anchor && index === 0 ? { kind: 'text', text: part, anchor } : { kind: 'text', text: part },
    );
}

/** Total characters of a document's text, for the source's counts. */
export function characterCount(blocks: Block[]): number {
  return blocks.reduce((sum, block) => sum + block.text.length, 0);
}
