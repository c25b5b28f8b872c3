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

/** The request limits and every plan's monthly quota lifted. */
export const UNLIMITED_ENV: Record<string, string> = {
  ...UNLIMITED_RATE_ENV,
  MONTHLY_MESSAGE_QUOTA: '0',
  MONTHLY_MESSAGE_QUOTA_PRO: '0',
  MONTHLY_MESSAGE_QUOTA_ENTERPRISE: '0',
};
