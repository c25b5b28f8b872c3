import type { Namespace } from 'socket.io';
import type {
  WidgetClientEvents,
  WidgetServerEvents,
  WidgetServerPayload,
  WidgetSocketData,
} from '../../shared/socket-events.js';

export type WidgetNamespace = Namespace<
  WidgetClientEvents,
  WidgetServerEvents,
  Record<string, never>,
  WidgetSocketData
>;

/** The room every open widget of a bot joins. */
export const botRoom = (chatbotId: string) => `bot:${chatbotId}`;

/** The room of one visitor's widgets (every tab), where answers stream. */
export const visitorRoom = (chatbotId: string, visitorId: string) => `visitor:${chatbotId}:${visitorId}`;

/**
 * Lets other capabilities push to the open widgets of a bot without knowing Socket.IO.
 * Created with the services and attached when the socket server starts; until then
 * (and in processes without one, like the CLI) pushes are dropped.
 */
export class WidgetHub {
  private namespace: WidgetNamespace | null = null;

  attach(namespace: WidgetNamespace | null): void {
    this.namespace = namespace;
  }

  /** Tells every open widget of the bot, on every node, to restyle with the new settings. */
  notifySettingsUpdated(chatbotId: string, payload: WidgetServerPayload<'settings:updated'>): void {
    this.namespace?.to(botRoom(chatbotId)).emit('settings:updated', payload);
  }
}
