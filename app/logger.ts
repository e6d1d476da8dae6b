/** The process logger (pino, JSON lines). Credential-bearing fields are redacted by path. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, name = 'firebreak'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.secret',
        '*.token',
        '*.password',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
  });
}
