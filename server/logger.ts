import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The one logger; secrets in headers and known fields are redacted before anything is written. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
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
  };
  // Tests pass a stream to read what would have been written.
  return destination ? pino(options, destination) : pino(options);
}
