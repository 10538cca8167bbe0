import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.ts';

// Credentials never reach a log line, whichever object carries them.
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-callback-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.api_key',
  '*.private_key',
  '*.otp',
  '*.code',
];

export function createLogger(config: Pick<Config, 'logLevel'>, stream?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'loket' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
