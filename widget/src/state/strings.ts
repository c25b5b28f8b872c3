import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';

/** The widget's own words in English; the owner overrides any of them in `strings`. */
const DEFAULTS = {
  'header.close': 'Close chat',
  'header.new': 'Start a new conversation',
  'composer.send': 'Send',
  'composer.label': 'Your message',
  'composer.offline': 'You are offline. Reconnecting…',
  'status.connecting': 'Connecting…',
  'status.offline': 'You are offline. Messages will send when you reconnect.',
  'status.refused': 'Chat is not available on this website.',
  'error.notSent': 'Not sent. Check your connection and retry.',
  'error.answer': 'The answer could not be completed.',
  'message.retry': 'Retry',
  'message.you': 'You',
  'feedback.up': 'Helpful',
  'feedback.down': 'Not helpful',
  'sources.title': 'Sources',
  typing: 'Typing…',
  'quickPrompts.label': 'Suggested questions',
  poweredBy: 'Powered by Wisp',
} as const;

export type StringKey = keyof typeof DEFAULTS;

/** A lookup for one config: the owner's string when set, else the default. */
export function widgetStrings(config: WidgetConfig): (key: StringKey) => string {
  const custom = config.strings ?? {};
  return (key) => custom[key] ?? DEFAULTS[key];
}
