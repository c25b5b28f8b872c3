import { useEffect, useRef } from 'preact/hooks';
import type { ChatApp } from '../state/chat-app.js';
import { Composer } from './Composer.js';
import { trapTab } from './focus-trap.js';
import { MessageList } from './MessageList.js';
import { PanelHeader } from './PanelHeader.js';
import { StatusBanner } from './StatusBanner.js';

/** The chat dialog: modal while open (focus stays inside, Esc closes), with a live region for answers. */
export function ChatPanel({ app }: { app: ChatApp }) {
  const { store } = app;
  const open = store.open.value;
  const panel = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    // The lead form, when it is waiting for an answer, comes before the composer.
    if (open)
      (panel.current?.querySelector<HTMLElement>('.lead input') ?? input.current)?.focus({ preventScroll: true });
  }, [open]);

  return (
    <div
      ref={panel}
      id="wisp-panel"
      class="panel"
      role="dialog"
      aria-modal="true"
      aria-labelledby="wisp-title"
      lang={app.locale}
      hidden={!open}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          app.requestClose();
        } else if (event.key === 'Tab' && panel.current) trapTab(event, panel.current);
      }}
    >
      <PanelHeader app={app} />
      <MessageList app={app} />
      <StatusBanner app={app} />
      <Composer app={app} inputRef={input} />
      {store.settings.value.showPoweredBy && <p class="powered">{app.t('poweredBy')}</p>}
      <div class="sr-only" role="status" aria-live="polite">
        {store.announcement}
      </div>
    </div>
  );
}
