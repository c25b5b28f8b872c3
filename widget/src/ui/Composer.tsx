import type { RefObject } from 'preact';
import type { ChatApp } from '../state/chat-app.js';
import { SendIcon } from './icons.js';

const MAX_HEIGHT_PX = 120;

/** Enter sends, Shift+Enter adds a line; disabled with a visible reason while offline. */
export function Composer({ app, inputRef }: { app: ChatApp; inputRef: RefObject<HTMLTextAreaElement | null> }) {
  const { store } = app;
  const state = store.connection.value;
  const offline = state === 'offline' || state === 'refused';
  // While connecting, a message waits in the socket's buffer and goes out once connected.
  const canSend = !offline && store.draft.value.trim() !== '';
  const settings = store.settings.value;

  const submit = () => {
    if (!canSend) return;
    app.connection.send(store.draft.peek());
    store.draft.value = '';
    if (inputRef.current) inputRef.current.style.height = '';
  };

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={inputRef}
        rows={1}
        aria-label={app.t('composer.label')}
        placeholder={offline ? app.t('composer.offline') : settings.inputPlaceholder}
        disabled={offline}
        maxLength={4000}
        value={store.draft.value}
        onInput={(event) => {
          const element = event.currentTarget;
          store.draft.value = element.value;
          element.style.height = '';
          element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT_PX)}px`;
        }}
        onKeyDown={(event) => {
          // Enter during IME composition picks a candidate; it must not send.
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" class="send" aria-label={app.t('composer.send')} disabled={!canSend}>
        <SendIcon />
      </button>
    </form>
  );
}
