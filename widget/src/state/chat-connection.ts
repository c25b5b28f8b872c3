import { batch } from '@preact/signals';
import { io, type Socket } from 'socket.io-client';
import type {
  WIDGET_NAMESPACE,
  WidgetClientEvents,
  WidgetHandshake,
  WidgetServerEvents,
} from '../../../shared/socket-events.js';
import type { ChatContext, WispMessageEvent } from '../chat-context.js';
import type { ChatMessage } from './chat-message.js';
import type { ChatStore } from './chat-store.js';
import type { LeadPayload, LeadReply, LeadTriggers } from './lead-capture.js';
import { randomId } from './random-id.js';
import { widgetStrings } from './strings.js';

type WidgetSocket = Socket<WidgetServerEvents, WidgetClientEvents>;
type Reply<T> =
  | { data: T; error?: undefined }
  | {
      data?: undefined;
      error: {
        name: string;
        message: string;
        details?: { assistantMessageId?: string | null; conversationId?: string } | null;
      };
    };

const NAMESPACE: typeof WIDGET_NAMESPACE = '/widget';
const ACK_TIMEOUT_MS = 20_000;
/**
 * An answer this long without news (no chunk, done or error) is looked up in history: one left
 * by a server that stopped is stored failed there, and then offers Retry instead of typing forever.
 */
const QUIET_ANSWER_MS = 4_000;
/** Handshake refusals that retrying cannot fix. */
const FINAL_REFUSALS = ['ForbiddenError', 'NotFoundError', 'BadRequestError'];
/** A server that is restarting refuses new messages for a while; the widget sends again this often. */
const RESTART_RETRIES = 10;

/** The wait a refusal asks for (`details.retryAfterSeconds`), at least 1 s. */
function retryAfterSeconds(details: unknown, fallback: number): number {
  const value = (details as { retryAfterSeconds?: unknown } | null | undefined)?.retryAfterSeconds;
  return typeof value === 'number' && value > 0 ? Math.ceil(value) : fallback;
}

/**
 * The widget's socket: connects on first use, keeps the visitor's id and token, sends with a
 * `clientMessageId` (so a retry is never stored twice) and, after any reconnect the server could
 * not resume, asks for the messages after the last one it has.
 */
export function createConnection(ctx: ChatContext, store: ChatStore, lead: LeadTriggers) {
  const { storage } = ctx;
  const t = (key: Parameters<ReturnType<typeof widgetStrings>>[0]) => widgetStrings(store.settings.peek())(key);
  let socket: WidgetSocket | null = null;
  let userToken = ctx.userToken;
  // '' in storage means the visitor started over: never adopt the server's older conversation then.
  const storedConversation = storage.get('conversation');
  let conversationId: string | null = storedConversation || null;
  let conversationDecided = storedConversation !== null;
  let visitor = readVisitor();
  // Sends are acknowledged one at a time, so two quick first messages share one new conversation.
  let sends: Promise<void> = Promise.resolve();
  /** Visitor messages waiting for the lead form (shown as sending until it is sent or dismissed). */
  const held: ChatMessage[] = [];
  /** The last handshake was refused as too many; its notice goes once connected. */
  let handshakeLimited = false;
  let lastNews = Date.now();
  /** Every timer this connection started, so `destroy` can clear them. */
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let destroyed = false;

  function later(run: () => void, ms: number) {
    const id = setTimeout(() => {
      timers.delete(id);
      run();
    }, ms);
    timers.add(id);
  }

  function readVisitor(): { id: string; token?: string } {
    try {
      const saved = JSON.parse(storage.get('visitor') ?? 'null') as { id?: unknown; token?: unknown } | null;
      if (saved && typeof saved.id === 'string')
        return { id: saved.id, token: typeof saved.token === 'string' ? saved.token : undefined };
    } catch {
      // Unreadable entry: start as a new visitor.
    }
    return { id: randomId() };
  }

  function setConversation(id: string | null) {
    conversationId = id;
    conversationDecided = true;
    storage.set('conversation', id ?? '');
  }

  function handshake(): WidgetHandshake {
    return {
      bot: ctx.bot,
      visitorId: visitor.id,
      ...(visitor.token ? { visitorToken: visitor.token } : {}),
      ...(userToken ? { userToken } : {}),
      pageUrl: location.href.slice(0, 2000),
    };
  }

  async function syncHistory() {
    if (!socket || !conversationId) return;
    const reply = (await socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck('chat:history', { conversationId, after: store.historyCursor() })
      .catch(() => null)) as Reply<{ messages: Parameters<ChatStore['mergeHistory']>[0] }> | null;
    if (!reply) return;
    if (reply.error) {
      if (reply.error.name === 'NotFoundError') {
        setConversation(null);
        store.reset();
      }
      return;
    }
    store.mergeHistory(reply.data.messages);
  }

  function rateLimited(details: unknown): string {
    return t('error.rateLimited').replace('{seconds}', String(retryAfterSeconds(details, 10)));
  }

  async function deliver(message: ChatMessage, restartRetries = RESTART_RETRIES): Promise<void> {
    const active = connect();
    const payload = {
      text: message.text.peek(),
      clientMessageId: message.clientMessageId ?? message.key,
      conversationId,
    };
    const reply = (await active
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck('chat:send', payload)
      .catch(() => null)) as Reply<{
      conversationId: string;
      messageId: string;
      assistantMessageId: string | null;
    }> | null;
    if (!reply || reply.error) {
      // The remembered conversation is gone (deleted by the owner): start a new one and send again.
      if (reply?.error.name === 'NotFoundError' && conversationId) {
        setConversation(null);
        store.reset();
        store.messages.value = [message];
        return deliver(message);
      }
      // Stored already and still being answered (a resend while the first send streams): wait for that answer.
      const pending = reply?.error.name === 'ConflictError' ? reply.error.details : undefined;
      if (pending?.assistantMessageId && pending.conversationId) {
        setConversation(pending.conversationId);
        lastNews = Date.now();
        message.status.value = 'complete';
        message.error.value = null;
        store.expectAnswer(pending.assistantMessageId, message.key);
        return;
      }
      // The server is restarting: it took nothing, so the same message goes again once it is back
      // (also when no answer came while it restarted; the same clientMessageId is never stored twice).
      const restarting = reply ? reply.error.name === 'UnavailableError' : restartRetries < RESTART_RETRIES;
      if (restarting && restartRetries > 0) {
        store.notice.value = t('status.restarting');
        await new Promise<void>((resolve) => later(resolve, retryAfterSeconds(reply?.error.details, 2) * 1000));
        return deliver(message, restartRetries - 1);
      }
      const limited = reply?.error.name === 'RateLimitError';
      // The server's message is written for developers and operators; the visitor gets the widget's words.
      const text = limited ? rateLimited(reply.error.details) : reply ? null : t('error.notSent');
      store.notice.value = limited ? text : null;
      message.error.value = text;
      message.status.value = 'failed';
      return;
    }
    if (restartRetries < RESTART_RETRIES) store.notice.value = null;
    setConversation(reply.data.conversationId);
    lastNews = Date.now();
    message.id = reply.data.messageId;
    message.status.value = 'complete';
    message.error.value = null;
    if (reply.data.assistantMessageId) store.expectAnswer(reply.data.assistantMessageId, message.key);
    lead.sent(message.text.peek());
  }

  function enqueue(message: ChatMessage) {
    message.status.value = 'sending';
    message.error.value = null;
    store.notice.value = null;
    sends = sends.then(() => deliver(message));
  }

  function checkQuietAnswers() {
    if (!socket?.connected || Date.now() - lastNews < QUIET_ANSWER_MS) return;
    const unsettled = store.messages
      .peek()
      .some((m) => m.role === 'assistant' && (m.status.peek() === 'pending' || m.status.peek() === 'streaming'));
    if (!unsettled) return;
    lastNews = Date.now();
    void syncHistory();
  }

  // Going offline is known to the browser long before a ping times out: show it at once.
  const onOffline = () => socket?.io.engine?.close();
  const onOnline = () => {
    if (socket && !socket.connected) socket.connect();
  };

  function connect(): WidgetSocket {
    if (socket) return socket;
    const quiet = setInterval(checkQuietAnswers, QUIET_ANSWER_MS / 2);
    timers.add(quiet);
    store.connection.value = 'connecting';
    const created: WidgetSocket = io(ctx.apiBase + NAMESPACE, {
      auth: (cb) => cb(handshake() as unknown as object),
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4_000,
      timeout: 10_000,
    });
    socket = created;
    created.on('connect', () => {
      store.connection.value = 'online';
      if (handshakeLimited) store.notice.value = null;
      handshakeLimited = false;
    });
    created.on('session', (session) => {
      visitor = { id: session.visitorId, token: session.visitorToken };
      storage.set('visitor', JSON.stringify(visitor));
      if (!conversationDecided && session.conversationId) setConversation(session.conversationId);
      // A resumed session got its missed events replayed; any other connection catches up from history.
      if (!created.recovered) void syncHistory();
    });
    created.on('disconnect', (reason) => {
      store.connection.value = 'offline';
      // The server dropped us on purpose (e.g. restarting): the client does not retry that by itself.
      if (reason === 'io server disconnect') later(() => created.connect(), 2_000);
    });
    created.on('connect_error', (error: Error & { data?: { name?: string; details?: unknown } }) => {
      if (created.active) {
        store.connection.value = 'offline';
        return;
      }
      const name = error.data?.name ?? '';
      // Too many connections from this network: say so, and try again when the server says.
      if (name === 'RateLimitError') {
        handshakeLimited = true;
        store.connection.value = 'connecting';
        store.notice.value = rateLimited(error.data?.details);
        later(() => created.connect(), retryAfterSeconds(error.data?.details, 10) * 1000);
        return;
      }
      // An expired or wrong end-user token: carry on as an anonymous visitor rather than not at all.
      if (name === 'UnauthorizedError' && userToken) {
        userToken = null;
        created.connect();
        return;
      }
      store.connection.value = FINAL_REFUSALS.includes(name) ? 'refused' : 'offline';
      store.notice.value = FINAL_REFUSALS.includes(name) ? t('status.refused') : null;
      if (!FINAL_REFUSALS.includes(name)) later(() => created.connect(), 5_000);
    });
    created.on('chat:chunk', (chunk) => {
      lastNews = Date.now();
      if (chunk.conversationId === conversationId) store.applyChunk(chunk.messageId, chunk.seq, chunk.text);
    });
    created.on('chat:done', ({ conversationId: id, message }) => {
      lastNews = Date.now();
      if (id !== conversationId) return;
      // Another tab of this visitor asked: fetch the question and answer together.
      if (!store.applyDone(message)) return void syncHistory();
      lead.answered(message);
      ctx.emit('message', {
        role: 'assistant',
        text: message.content,
        messageId: message.id,
        conversationId: id,
      } satisfies WispMessageEvent);
    });
    created.on('chat:error', ({ conversationId: id, messageId }) => {
      lastNews = Date.now();
      if (id === conversationId) store.applyError(messageId, null);
    });
    created.on('settings:updated', ({ config }) => {
      // Kept although the contract says so: a widget must survive an older or newer server.
      if (!config?.appearance) return;
      store.settings.value = config;
      ctx.applyConfig(config);
    });
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);
    return created;
  }

  return {
    connect,
    send(text: string) {
      const trimmed = text.trim();
      if (!trimmed) return;
      const hold = lead.holds();
      const message = store.addOutgoing(trimmed, `w_${randomId()}`);
      ctx.emit('message', { role: 'user', text: trimmed, messageId: null, conversationId } satisfies WispMessageEvent);
      if (hold) held.push(message);
      else enqueue(message);
    },
    releaseHeld() {
      for (const message of held.splice(0)) enqueue(message);
    },
    submitLead(payload: LeadPayload): Promise<LeadReply> {
      return connect()
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('lead:submit', { ...payload, conversationId })
        .catch(() => null);
    },
    /** Sends a failed message again with the same client id; the server answers it once. */
    retry(target: ChatMessage) {
      const list = store.messages.peek();
      const index = list.indexOf(target);
      const question =
        target.role === 'user'
          ? target
          : list
              .slice(0, index)
              .reverse()
              .find((m) => m.role === 'user');
      if (question) enqueue(question);
    },
    feedback(message: ChatMessage, rating: 'up' | 'down') {
      if (!message.id) return;
      const previous = message.feedback.peek();
      message.feedback.value = rating;
      void connect()
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('message:feedback', { messageId: message.id, rating })
        .then(
          (reply) => {
            if (reply.error) message.feedback.value = previous;
          },
          () => {
            message.feedback.value = previous;
          },
        );
    },
    /** Approves or declines the action an answer waits for; the follow-up answer streams into the same bubble. */
    confirm(message: ChatMessage, approve: boolean) {
      batch(() => {
        message.action.value = undefined;
        message.text.value = '';
        message.status.value = 'pending';
      });
      message.nextSeq = 0;
      message.gap = false;
      lastNews = Date.now();
      // Refused (answered in another tab meanwhile) or lost: the stored answer says what happened.
      void connect()
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('chat:confirm', { messageId: message.id!, approve })
        .then(
          (reply) => reply.error && syncHistory(),
          () => syncHistory(),
        );
    },
    newConversation() {
      held.length = 0;
      setConversation(null);
      store.reset();
      socket?.emit('chat:new', {}, () => undefined);
    },
    identify(token: string | null) {
      userToken = token;
      // The end user is checked at the handshake, so a new identity needs a new one.
      if (socket?.connected) socket.disconnect().connect();
    },
    /** Closes the socket for good and removes its timers and window listeners. */
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const id of timers) clearTimeout(id);
      timers.clear();
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      socket?.off();
      socket?.disconnect();
    },
  };
}

export type ChatConnection = ReturnType<typeof createConnection>;
