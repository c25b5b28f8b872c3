import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHAT_ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
const CLOSE_ICON = 'M6 6l12 12M18 6L6 18';

export interface Launcher {
  element: HTMLButtonElement;
  /** Redraws for a config and open state (label, icon, expanded). */
  update(config: WidgetConfig, open: boolean): void;
}

function icon(path: string, filled: boolean): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const shape = document.createElementNS(SVG, 'path');
  shape.setAttribute('d', path);
  shape.setAttribute('fill', filled ? 'currentColor' : 'none');
  shape.setAttribute('stroke', 'currentColor');
  shape.setAttribute('stroke-width', filled ? '0' : '2.5');
  shape.setAttribute('stroke-linecap', 'round');
  svg.append(shape);
  return svg;
}

/**
 * The chat bubble, drawn with plain DOM calls so the loader stays a few kilobytes and paints
 * before any chat code (Preact, Socket.IO) is downloaded.
 */
export function createLauncher(onToggle: () => void, onIntent: () => void): Launcher {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = 'launcher';
  element.setAttribute('aria-haspopup', 'dialog');
  element.setAttribute('aria-controls', 'wisp-panel');
  element.addEventListener('click', onToggle);
  // Fetch the chat code as soon as the visitor shows intent, so opening feels instant.
  element.addEventListener('pointerenter', onIntent, { once: true });
  element.addEventListener('focus', onIntent, { once: true });
  // Until a config arrives the bubble is the default one.
  element.setAttribute('aria-label', 'Open chat');
  element.setAttribute('aria-expanded', 'false');
  element.append(icon(CHAT_ICON, true));
  let drawn = 'false|';
  return {
    element,
    update(config, open) {
      const strings = config.strings ?? {};
      element.setAttribute(
        'aria-label',
        open
          ? (strings['launcher-close'] ?? 'Close chat')
          : (strings['launcher-open'] ?? `Open chat with ${config.name}`),
      );
      element.setAttribute('aria-expanded', String(open));
      const iconUrl = config.appearance.launcherIconUrl;
      const key = `${open}|${iconUrl ?? ''}`;
      if (key === drawn) return;
      drawn = key;
      if (!open && iconUrl && /^https:\/\//i.test(iconUrl)) {
        const img = document.createElement('img');
        img.src = iconUrl;
        img.alt = '';
        element.replaceChildren(img);
      } else {
        element.replaceChildren(open ? icon(CLOSE_ICON, false) : icon(CHAT_ICON, true));
      }
    },
  };
}
