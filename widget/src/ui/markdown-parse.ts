/**
 * A small Markdown subset parsed into a tree that is rendered as Preact elements, never as an
 * HTML string: raw HTML in a message stays text, so nothing needs sanitizing. Supported: paragraphs,
 * line breaks, headings (shown bold), bullet and numbered lists, fenced and inline code, bold,
 * italic, links and bare URLs. Links keep only http(s) and mailto targets.
 */
export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong' | 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export type Block = { t: 'p' | 'h'; c: Inline[] } | { t: 'ul' | 'ol'; items: Inline[][] } | { t: 'pre'; v: string };

const INLINE =
  /`([^`\n]+)`|\*\*(.+?)\*\*|__(.+?)__|\*(?=\S)([^*\n]+?)\*|\b_([^_\n]+)_\b|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"])|\n/g;

/** The URL when it is absolute http(s) or mailto; anything else (javascript:, data:, relative) is refused. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    // Not an absolute URL: shown as plain text.
    return null;
  }
}

export function parseInline(source: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  const text = (v: string) => v && out.push({ t: 'text', v });
  for (const match of source.matchAll(INLINE)) {
    const at = match.index ?? 0;
    text(source.slice(last, at));
    last = at + match[0].length;
    const [whole, code, bold, bold2, em, em2, label, href, bare] = match;
    if (code !== undefined) out.push({ t: 'code', v: code });
    else if (bold !== undefined || bold2 !== undefined) out.push({ t: 'strong', c: parseInline(bold ?? bold2 ?? '') });
    else if (em !== undefined || em2 !== undefined) out.push({ t: 'em', c: parseInline(em ?? em2 ?? '') });
    else if (label !== undefined && href !== undefined) {
      const safe = safeHref(href);
      if (safe) out.push({ t: 'link', href: safe, c: parseInline(label) });
      else text(label);
    } else if (bare !== undefined) {
      const safe = safeHref(bare);
      if (safe) out.push({ t: 'link', href: safe, c: [{ t: 'text', v: bare }] });
      else text(bare);
    } else if (whole === '\n') out.push({ t: 'br' });
  }
  text(source.slice(last));
  return out;
}

const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,9}[.)]\s+(.*)$/;
const HEADING = /^#{1,6}\s+(.*)$/;

export function parseMarkdown(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  // Held in an object so the narrowing of a closure-assigned variable does not confuse the checker.
  const state: { list: { t: 'ul' | 'ol'; items: Inline[][] } | null } = { list: null };
  const flush = () => {
    if (paragraph.length) blocks.push({ t: 'p', c: parseInline(paragraph.join('\n')) });
    paragraph = [];
    state.list = null;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line.trimStart().startsWith('```')) {
      flush();
      const code: string[] = [];
      // An unclosed fence (an answer still streaming) runs to the end.
      while (i + 1 < lines.length && !(lines[i + 1] ?? '').trimStart().startsWith('```')) code.push(lines[++i] ?? '');
      i += 1;
      blocks.push({ t: 'pre', v: code.join('\n') });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      const kind = bullet ? 'ul' : 'ol';
      if (paragraph.length || state.list?.t !== kind) flush();
      const list = state.list ?? { t: kind, items: [] };
      if (!state.list) {
        state.list = list;
        blocks.push(list);
      }
      list.items.push(parseInline(item[1] ?? ''));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      blocks.push({ t: 'h', c: parseInline(heading[1] ?? '') });
    } else if (line.trim() === '') flush();
    else {
      state.list = null;
      paragraph.push(line);
    }
  }
  flush();
  return blocks;
}
