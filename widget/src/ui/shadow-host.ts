export interface ShadowHost {
  host: HTMLElement;
  root: ShadowRoot;
  /** Adds a stylesheet; the returned function replaces its text later (e.g. new theme). */
  addStyles(css: string): (css: string) => void;
}

const supportsConstructableSheets = (() => {
  try {
    return 'adoptedStyleSheets' in Document.prototype && 'replaceSync' in CSSStyleSheet.prototype;
  } catch {
    // Old engines without the constructor: fall back to <style> elements.
    return false;
  }
})();

/**
 * The widget's one element on the host page, with everything inside an open shadow root.
 * A custom tag (never defined) so the page's `div`/`section` rules do not match it; styles
 * are constructable sheets, which a strict `style-src` CSP does not block.
 */
export function createShadowHost(): ShadowHost {
  const host = document.createElement('wisp-widget');
  const root = host.attachShadow({ mode: 'open' });
  const addStyles = (css: string) => {
    if (supportsConstructableSheets) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      return (next: string) => sheet.replaceSync(next);
    }
    const style = document.createElement('style');
    style.textContent = css;
    root.prepend(style);
    return (next: string) => {
      style.textContent = next;
    };
  };
  return { host, root, addStyles };
}
