import { useSignalEffect } from '@preact/signals';
import { useRef } from 'preact/hooks';
import type { ChatApp } from '../state/chat-app.js';
import { LeadForm } from './LeadForm.js';
import { Markdown } from './Markdown.js';
import { MessageBubble } from './MessageBubble.js';
import { QuickPrompts } from './QuickPrompts.js';

/** How close to the bottom (px) still counts as "reading the latest", so new text scrolls into view. */
const STICKY_PX = 160;

/** The welcome message, the conversation, the lead form when asked, and quick prompts before the first message. */
export function MessageList({ app }: { app: ChatApp }) {
  const scroller = useRef<HTMLDivElement>(null);
  const { store } = app;
  const messages = store.messages.value;
  const settings = store.settings.value;
  const leadPhase = app.lead.phase.value;
  const leadShown = settings.leadCapture.enabled && leadPhase !== 'hidden' && leadPhase !== 'dismissed';
  // The form, and the thanks that replaces it, keep their place in the thread instead of following new messages.
  const leadAt = leadShown ? Math.min(app.lead.position.value, messages.length) : messages.length;

  // Follows the newest text (also while it streams) unless the visitor scrolled up to read.
  useSignalEffect(() => {
    const list = store.messages.value;
    const last = list[list.length - 1];
    void last?.text.value;
    void last?.status.value;
    void store.open.value;
    void app.lead.phase.value;
    const element = scroller.current;
    if (!element) return;
    const nearBottom = element.scrollHeight - element.scrollTop - element.clientHeight < STICKY_PX;
    if (nearBottom) requestAnimationFrame(() => (element.scrollTop = element.scrollHeight));
  });

  return (
    <div class="messages" ref={scroller} tabIndex={-1}>
      <ol aria-label={settings.name}>
        {settings.welcomeMessage && (
          <li class="message assistant welcome">
            <div class="bubble">
              <Markdown text={settings.welcomeMessage} />
            </div>
          </li>
        )}
        {messages.slice(0, leadAt).map((message) => (
          <MessageBubble key={message.key} app={app} message={message} />
        ))}
        {leadShown && (
          <li class="lead-slot">
            <LeadForm app={app} />
          </li>
        )}
        {messages.slice(leadAt).map((message) => (
          <MessageBubble key={message.key} app={app} message={message} />
        ))}
      </ol>
      {messages.length === 0 && settings.quickPrompts.length > 0 && (
        <QuickPrompts app={app} prompts={settings.quickPrompts} />
      )}
    </div>
  );
}
