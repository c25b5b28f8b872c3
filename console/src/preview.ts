/**
 * The widget preview page, shown in a frame beside the widget settings form. It runs the real,
 * built widget; the config the widget asks the server for is answered with the form's unsaved
 * settings, which the console posts here on every change.
 */
import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';
import './preview.css';

interface PreviewMessage {
  type: 'wisp-preview';
  config: WidgetConfig;
}

// The widget focuses its input when it opens; while the owner types in the form beside it, the
// preview must not take the focus away (it may once the owner works inside the preview).
const focus = HTMLElement.prototype.focus;
HTMLElement.prototype.focus = function (this: HTMLElement, options?: FocusOptions) {
  if (document.hasFocus()) focus.call(this, options);
};

let config: WidgetConfig | null = null;
const realFetch = window.fetch.bind(window);
window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (config && url.includes('/api/v1/widget-config')) {
    return Promise.resolve(
      new Response(JSON.stringify({ success: true, data: config, error: null }), {
        headers: { 'Content-Type': 'application/json' },
      }),
    );
  }
  return realFetch(input, init);
};

function mount(next: WidgetConfig): void {
  config = next;
  const running = (window as { Wisp?: { destroy?: () => void } }).Wisp;
  running?.destroy?.();
  document.querySelector('script[data-preview]')?.remove();
  const script = document.createElement('script');
  script.src = '/widget.js';
  script.async = true;
  script.dataset.bot = next.botId;
  script.dataset.open = 'true';
  script.dataset.preview = '';
  document.body.append(script);
}

window.addEventListener('message', (event: MessageEvent<PreviewMessage>) => {
  if (event.origin !== location.origin || event.data?.type !== 'wisp-preview') return;
  mount(event.data.config);
});
// Tells the console the page is ready for its first config.
window.parent.postMessage({ type: 'wisp-preview-ready' }, location.origin);
