import type { ChatApp } from '../state/chat-app.js';
import type { ChatMessage } from '../state/chat-message.js';
import { Citations } from './Citations.js';
import { FeedbackButtons } from './FeedbackButtons.js';
import { Markdown } from './Markdown.js';
import { TypingIndicator } from './TypingIndicator.js';

/**
 * One message. While an answer streams, its text signal goes straight into the DOM (no
 * re-render per token); once complete it is rendered as Markdown.
 */
export function MessageBubble({ app, message }: { app: ChatApp; message: ChatMessage }) {
  const status = message.status.value;
  const assistant = message.role === 'assistant';
  const settings = app.store.settings.value;
  const waiting = assistant && (status === 'pending' || (status === 'streaming' && message.gap));
  // An answer that failed before its first word has nothing to show but the error below.
  const emptyFailure = assistant && status === 'failed' && message.text.value.trim() === '';
  let body;
  if (!assistant) body = <span class="plain">{message.text}</span>;
  else if (status === 'streaming' && !message.gap) body = <span class="plain">{message.text}</span>;
  else if (status !== 'pending') body = <Markdown text={message.text.value} />;
  return (
    <li class={`message ${message.role} ${status}`} data-message-id={message.id ?? undefined}>
      {!emptyFailure && (
        <div class="bubble">
          {!assistant && <span class="sr-only">{app.t('message.you')}: </span>}
          {assistant && message.notice.value === 'knowledge_only' && (
            <p>
              <em>{app.t('notice.knowledgeOnly')}</em>
            </p>
          )}
          {body}
          {assistant && message.notice.value === 'ask_email' && <p>{app.t('notice.askEmail')}</p>}
          {waiting && <TypingIndicator label={app.t('typing')} />}
          {assistant && status === 'complete' && message.action.value && (
            <div class="lead-actions">
              <button type="button" class="lead-submit" onClick={() => app.connection.confirm(message, true)}>
                {app.t('action.approve')}
              </button>
              <button type="button" class="lead-dismiss" onClick={() => app.connection.confirm(message, false)}>
                {app.t('action.decline')}
              </button>
            </div>
          )}
        </div>
      )}
      {status === 'failed' && (
        <p class="error" role="alert">
          {message.error.value ?? app.t('error.answer')}{' '}
          <button type="button" class="retry" onClick={() => app.connection.retry(message)}>
            {app.t('message.retry')}
          </button>
        </p>
      )}
      {assistant && status === 'complete' && settings.showCitations && (
        <Citations sources={message.sources.value} title={app.t('sources.title')} />
      )}
      {assistant && status === 'complete' && message.id && <FeedbackButtons app={app} message={message} />}
    </li>
  );
}
