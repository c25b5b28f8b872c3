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
  'notice.knowledgeOnly': 'Our assistant is unavailable; here is what our help pages say:',
  'notice.askEmail': "We couldn't find this. Leave your email here and we'll follow up.",
  // `{seconds}` is replaced by the wait the server asked for.
  'error.rateLimited': 'Too many messages right now. Please wait {seconds} seconds and try again.',
  'status.restarting': 'The chat is restarting. Your message will be sent in a moment.',
  'message.retry': 'Retry',
  'action.approve': 'Approve',
  'action.decline': 'Decline',
  'message.you': 'You',
  'feedback.up': 'Helpful',
  'feedback.down': 'Not helpful',
  'sources.title': 'Sources',
  typing: 'Typing…',
  'quickPrompts.label': 'Suggested questions',
  poweredBy: 'Powered by Wisp',
  'lead.title': 'How can we reach you?',
  'lead.submit': 'Send details',
  'lead.dismiss': 'Not now',
  'lead.thanks': 'Thanks! We will be in touch.',
  'lead.required': 'This field is required.',
  'lead.badEmail': 'Enter an email address like name@example.com.',
  'lead.badPhone': 'Enter a phone number like +1 555 123 4567.',
  'lead.consent': 'Tick this box to send your details.',
  'lead.empty': 'Fill in at least one field.',
  'lead.failed': 'Your details could not be sent. Check your connection and try again.',
} as const;

export type StringKey = keyof typeof DEFAULTS;

/** A lookup for one config: the owner's string when set, else the default. */
export function widgetStrings(config: WidgetConfig): (key: StringKey) => string {
  const custom = config.strings ?? {};
  // Owners write keys with '-' for '.' (the API refuses dotted field names): `header-close` overrides `header.close`.
  return (key) => custom[key.replace(/\./g, '-')] ?? DEFAULTS[key];
}
