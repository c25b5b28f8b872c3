import type { SourceRef } from '../../../shared/schemas/chat.js';
import { safeHref } from './markdown-parse.js';

/** The sources of an answer, each once: a link when it has a safe URL, else its title. */
export function Citations({ sources, title }: { sources: SourceRef[]; title: string }) {
  const seen = new Set<string>();
  const unique = sources.filter((source) => {
    const key = source.url ?? source.title ?? source.sourceId;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length === 0) return null;
  return (
    <div class="sources">
      <p class="sources-title">{title}</p>
      <ul>
        {unique.map((source) => {
          const href = source.url ? safeHref(source.url) : null;
          const label = source.title || href || source.sourceId;
          return (
            <li key={source.sourceId + label}>
              {href ? (
                <a href={href} target="_blank" rel="noopener noreferrer">
                  {label}
                </a>
              ) : (
                <span>{label}</span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
