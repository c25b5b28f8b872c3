import { render } from 'preact';
import type { MountChat } from './chat-context.js';
import type { ChatApp } from './state/chat-app.js';
import { createConnection } from './state/chat-connection.js';
import { createChatStore } from './state/chat-store.js';
import { createLeadCapture } from './state/lead-capture.js';
import { widgetStrings } from './state/strings.js';
import { ChatPanel } from './ui/ChatPanel.js';
import panelCss from './ui/panel.css?inline';

/** The chat chunk, loaded on first open (or at once for a visitor with a conversation). */
export const mountChat: MountChat = (context) => {
  context.addStyles(panelCss);
  const store = createChatStore(context.config);
  const lead = createLeadCapture(context, store, context.locale);
  const connection = createConnection(context, store, lead.triggers);
  const app: ChatApp = {
    store,
    connection,
    lead,
    requestClose: context.requestClose,
    locale: context.locale,
    t: (key) => widgetStrings(store.settings.value)(key),
  };
  render(<ChatPanel app={app} />, context.container);
  connection.connect();
  return {
    setOpen: (open) => {
      store.open.value = open;
    },
    send: (text) => connection.send(text),
    identify: (token) => connection.identify(token),
    destroy: () => {
      // Unmounting runs the components' effect cleanups (useEffect, useSignalEffect).
      render(null, context.container);
      lead.dispose();
      connection.destroy();
    },
  };
};
