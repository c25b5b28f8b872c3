import type { ChatApp } from '../state/chat-app.js';
import { CloseIcon, NewIcon } from './icons.js';

/** Bot name and avatar, "new conversation" and close. */
export function PanelHeader({ app }: { app: ChatApp }) {
  const settings = app.store.settings.value;
  const avatar = settings.appearance.avatarUrl;
  return (
    <header class="header">
      {avatar && /^https:\/\//i.test(avatar) ? (
        <img class="avatar" src={avatar} alt="" />
      ) : (
        <span class="avatar" aria-hidden="true">
          {settings.name.slice(0, 1).toUpperCase()}
        </span>
      )}
      <h2 id="wisp-title" class="title">
        {settings.name}
      </h2>
      <button
        type="button"
        class="icon-button"
        aria-label={app.t('header.new')}
        title={app.t('header.new')}
        onClick={() => app.connection.newConversation()}
      >
        <NewIcon />
      </button>
      <button
        type="button"
        class="icon-button close"
        aria-label={app.t('header.close')}
        title={app.t('header.close')}
        onClick={() => app.requestClose()}
      >
        <CloseIcon />
      </button>
    </header>
  );
}
