import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * `LOG_FORMAT=auto`: readable lines for a person at a terminal in development, JSON for log
 * collectors (production, pipes, files).
 */
export function chooseLogFormat(setting: 'auto' | LogFormat, nodeEnv: string, isTerminal: boolean): LogFormat {
  if (setting !== 'auto') return setting;
  return isTerminal && nodeEnv !== 'production' ? 'pretty' : 'json';
}

interface RequestLine {
  req?: { id?: string; method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/** A request as one short line: `GET /api/v1/chatbots 200 12ms (request id)`. */
function readableMessage(log: Record<string, unknown>, messageKey: string): string {
  const { req, res, responseTime } = log as RequestLine;
  if (req?.method && res?.statusCode !== undefined) {
    return `${req.method} ${req.url ?? ''} ${res.statusCode} ${responseTime ?? '?'}ms (${req.id ?? '-'})`;
  }
  return String(log[messageKey] ?? '');
}

/** The one logger; secrets in headers and known fields are redacted before anything is written. */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
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
  if (format === 'pretty') {
    const stream = pretty({
      destination: destination ?? 1,
      sync: destination === undefined,
      colorize: destination === undefined,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,req,res,responseTime',
      messageFormat: readableMessage,
    });
    return pino(options, stream);
  }
  // Tests pass a stream to read what would have been written.
  return destination ? pino(options, destination) : pino(options);
}
