import type { ComponentChildren } from 'preact';
import { parseMarkdown, type Inline } from './markdown-parse.js';

function inline(nodes: Inline[]): ComponentChildren {
  return nodes.map((node) => {
    switch (node.t) {
      case 'text':
        return node.v;
      case 'code':
        return <code>{node.v}</code>;
      case 'strong':
        return <strong>{inline(node.c)}</strong>;
      case 'em':
        return <em>{inline(node.c)}</em>;
      case 'br':
        return <br />;
      case 'link':
        return (
          <a href={node.href} target="_blank" rel="noopener noreferrer">
            {inline(node.c)}
          </a>
        );
    }
  });
}

/** Renders message text as elements; see markdown-parse.ts for what is supported and why it is safe. */
export function Markdown({ text }: { text: string }) {
  return (
    <>
      {parseMarkdown(text).map((block) => {
        switch (block.t) {
          case 'p':
            return <p>{inline(block.c)}</p>;
          case 'h':
            return (
              <p>
                <strong>{inline(block.c)}</strong>
              </p>
            );
          case 'pre':
            return (
              <pre>
                <code>{block.v}</code>
              </pre>
            );
          case 'ul':
            return (
              <ul>
                {block.items.map((item) => (
                  <li>{inline(item)}</li>
                ))}
              </ul>
            );
          case 'ol':
            return (
              <ol>
                {block.items.map((item) => (
                  <li>{inline(item)}</li>
                ))}
              </ol>
            );
        }
      })}
    </>
  );
}
