import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { WidgetClientEvents, WidgetHandshake, WidgetServerEvents } from '../../shared/socket-events.js';

export type WidgetClient = Socket<WidgetServerEvents, WidgetClientEvents>;
export type Session = Parameters<WidgetServerEvents['session']>[0];

/** A refused handshake, as the widget sees it in `connect_error`. */
export class HandshakeRefused extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly details: unknown,
  ) {
    super(`${errorName}: ${message}`);
  }
}

export interface ConnectOptions {
  /** The page's origin, set by hand as any non-browser client can. */
  origin?: string;
  /** Sent as `X-Forwarded-For`, which the server honours from loopback: one simulated visitor address. */
  ip?: string;
}

/** Connects to the widget namespace like the widget does; resolves with the socket and its session. */
export function connectWidget(
  baseUrl: string,
  auth: Partial<WidgetHandshake> & { bot: string },
  options: ConnectOptions = {},
): Promise<{ socket: WidgetClient; session: Session }> {
  const headers: Record<string, string> = {};
  if (options.origin) headers.Origin = options.origin;
  if (options.ip) headers['X-Forwarded-For'] = options.ip;
  const socket: WidgetClient = io(`${baseUrl}/widget`, {
    transports: ['websocket'],
    extraHeaders: headers,
    auth: { visitorId: `v_${randomUUID()}`, ...auth },
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('session', (session) => resolve({ socket, session }));
    socket.once('connect_error', (error: Error & { data?: { name?: string; details?: unknown } }) => {
      socket.close();
      reject(new HandshakeRefused(error.data?.name ?? 'ConnectError', error.message, error.data?.details));
    });
  });
}

/** Sends one visitor message (in a new conversation unless given one) and returns the ack (data or error). */
export function send(
  socket: WidgetClient,
  text: string,
  clientMessageId = `c_${randomUUID()}`,
  conversationId: string | null = null,
) {
  return socket.timeout(20_000).emitWithAck('chat:send', { text, clientMessageId, conversationId });
}
