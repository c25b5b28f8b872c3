/** Every request limit lifted through configuration alone (0 = unlimited), as an operator would for a load test. */
export const UNLIMITED_RATE_ENV: Record<string, string> = {
  RATE_LIMIT_FREE_PER_MINUTE: '0',
  RATE_LIMIT_FREE_PER_SECOND: '0',
  RATE_LIMIT_PRO_PER_MINUTE: '0',
  RATE_LIMIT_PRO_PER_SECOND: '0',
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: '0',
  RATE_LIMIT_ENTERPRISE_PER_SECOND: '0',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
};

/** The widget's flood limits lifted (0 = unlimited); widget limit tests set their own `WIDGET_*` values. */
export const UNLIMITED_WIDGET_ENV: Record<string, string> = {
  WIDGET_CONNECTS_PER_IP_PER_MINUTE: '0',
  WIDGET_MESSAGES_BURST_PER_VISITOR: '0',
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: '0',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '0',
  WIDGET_MESSAGES_PER_BOT_PER_MINUTE: '0',
  WIDGET_EVENTS_PER_IP_PER_MINUTE: '0',
  WIDGET_CONFIG_PER_IP_PER_MINUTE: '0',
  WIDGET_LEADS_PER_IP_PER_MINUTE: '0',
};

/** The request limits, the widget's flood limits and every plan's monthly quota lifted. */
export const UNLIMITED_ENV: Record<string, string> = {
  ...UNLIMITED_RATE_ENV,
  ...UNLIMITED_WIDGET_ENV,
  MONTHLY_MESSAGE_QUOTA: '0',
  MONTHLY_MESSAGE_QUOTA_PRO: '0',
  MONTHLY_MESSAGE_QUOTA_ENTERPRISE: '0',
};
