import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';

/** Sent after a bot's widget settings changed, for pushing `settings:updated` to its open widgets. */
export interface SettingsUpdate {
  organizationId: string;
  chatbotId: string;
  version: number;
  config: WidgetConfig;
}

export type SettingsListener = (update: SettingsUpdate) => void;

/**
 * The settings service announces changes here and never learns who listens: the widget's
 * socket hub subscribes, so settings code stays free of socket.io.
 */
export class SettingsUpdates {
  private readonly listeners = new Set<SettingsListener>();

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: SettingsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener; one failing listener neither stops the others nor fails the change. */
  publish(update: SettingsUpdate, onError: (error: unknown) => void): void {
    for (const listener of this.listeners) {
      try {
        listener(update);
      } catch (error) {
        onError(error);
      }
    }
  }
}
