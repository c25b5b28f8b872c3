import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger; secrets in headers and known fields are redacted before anything is written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.apiKey',
        '*.secret',
        '*.password',
        '*.token',
        '*.userToken',
      ],
      censor: '[redacted]',
    },
  });
}
