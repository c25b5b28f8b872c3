import type { ChatApp } from '../state/chat-app.js';

/** Why the visitor cannot chat right now (offline, refused) or a one-off notice such as a rate limit. */
export function StatusBanner({ app }: { app: ChatApp }) {
  const { store } = app;
  const state = store.connection.value;
  const notice = store.notice.value;
  if (state === 'offline') {
    return (
      <p class="status offline" role="status">
        {app.t('status.offline')}
      </p>
    );
  }
  if (notice) {
    return (
      <p class="status notice" role="alert">
        {notice}
      </p>
    );
  }
  return null;
}
