import type { ChatApp } from '../state/chat-app.js';
import type { ChatMessage } from '../state/chat-message.js';
import { ThumbDownIcon, ThumbUpIcon } from './icons.js';

/** Thumbs up and down on a complete answer; pressing one again keeps it (the server stores the latest). */
export function FeedbackButtons({ app, message }: { app: ChatApp; message: ChatMessage }) {
  const rating = message.feedback.value;
  return (
    <div class="feedback">
      <button
        type="button"
        class="icon-button"
        aria-label={app.t('feedback.up')}
        aria-pressed={rating === 'up'}
        onClick={() => app.connection.feedback(message, 'up')}
      >
        <ThumbUpIcon />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={app.t('feedback.down')}
        aria-pressed={rating === 'down'}
        onClick={() => app.connection.feedback(message, 'down')}
      >
        <ThumbDownIcon />
      </button>
    </div>
  );
}
