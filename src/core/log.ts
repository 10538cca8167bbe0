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
  '*.refresh_token',
  '*.access_token',
  '*.callback_token',
  '*.password_pppoe',
];

// Query parameters and path parameters whose values are credentials (tokens in WebSocket URLs, signed links).
const SECRET_NAME = /token|key|sig|secret|pass|otp|code|auth|session|credential/i;

/** The request's URL with the values of secret-looking query and path parameters replaced. */
export function redactUrl(url: string, params?: unknown): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (params && typeof params === 'object') {
    for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
      if (!SECRET_NAME.test(name) || typeof value !== 'string' || value.length < 4) continue;
      path = path.split(value).join('[redacted]').split(encodeURIComponent(value)).join('[redacted]');
    }
  }
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {}
      return eq !== -1 && SECRET_NAME.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  params?: unknown;
  ip?: string;
  host?: string;
}

const serializers = {
  req: (req: LoggedRequest) => ({
    method: req.method,
    url: redactUrl(req.url ?? '', req.params),
    host: req.host,
    remoteAddress: req.ip,
  }),
};

export function createLogger(config: Pick<Config, 'logLevel'>, stream?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'loket' },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
