import type { ChatApp } from '../state/chat-app.js';

/** The owner's suggested first questions, shown until the visitor has said something. */
export function QuickPrompts({ app, prompts }: { app: ChatApp; prompts: string[] }) {
  const state = app.store.connection.value;
  const offline = state === 'offline' || state === 'refused';
  return (
    <div class="quick-prompts" role="group" aria-label={app.t('quickPrompts.label')}>
      {prompts.map((prompt) => (
        <button key={prompt} type="button" disabled={offline} onClick={() => app.connection.send(prompt)}>
          {prompt}
        </button>
      ))}
    </div>
  );
}
