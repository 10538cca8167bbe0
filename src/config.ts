import { createHash } from 'node:crypto';
import {
  assertDistinct,
  type ContextOf,
  type Env,
  type Group,
  group,
  readGroups,
  renderEnvExample as renderEnv,
  renderConfigTable as renderTable,
  replaceBetweenMarkers,
  type Values,
  type VarDoc,
  v,
  variablesOf,
} from './core/config-schema.ts';
import { isTimeZone } from './core/time.ts';
import { im3Config } from './modules/im3/config.ts';
import { photoboxConfig } from './modules/photobox/config.ts';
import { ppobConfig } from './modules/ppob/config.ts';

// The one place that reads process.env. Every variable Loket understands is declared once, with the builders of
// core/config-schema.ts: the core's below, each module's in its own `config.ts`. The Config type, the parser,
// `.env.example` and the README's configuration table all come from these declarations
// (`npm run loket -- config write` regenerates both files; `config check` and test/config.test.ts fail when they
// differ). Computed defaults (`v.derived`) and cross-field checks (a group's last argument, `checkAcross` below)
// live beside the variables they read.

export { ConfigError } from './core/config-schema.ts';

export const DEV_SECRET = 'loket-development-secret-change-me-0000000000';

export const ALL_MODULES = ['ppob', 'photobox', 'staff', 'billing', 'im3'] as const;
export type ModuleName = (typeof ALL_MODULES)[number];

const URL_SCHEMES = ['http:', 'https:'];

/** Every method a route can have (the route kit's, HEAD for GETs, OPTIONS for preflights). */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const server = group('Server', {
  host: v.string('HOST', { default: '127.0.0.1', doc: 'Interface the HTTP server binds to.' }),
  port: v.int('PORT', { default: 8000, min: 0, max: 65535, doc: 'HTTP port.' }),
  publicUrl: v.url('PUBLIC_URL', {
    protocols: URL_SCHEMES,
    trimSlash: true,
    default: v.derived('http://HOST:PORT', (c: { host: string; port: number }) => `http://${c.host}:${c.port}`),
    doc: 'Base URL clients use to reach Loket (links in e-mails, callback URLs).',
  }),
  env: v.enum('LOKET_ENV', ['development', 'production'], {
    default: 'development',
    doc: '`development` or `production`. Production refuses default secrets and simulated providers, and disables every `/_dev/*` route.',
  }),
  modules: v.list('LOKET_MODULES', {
    values: ALL_MODULES,
    default: [...ALL_MODULES],
    item: 'module',
    doc: 'Comma-separated modules to mount.',
  }),
  /** undefined = decide at start-up: seed only when the embedded database was created fresh. */
  demo: v.bool('LOKET_DEMO', {
    default: undefined,
    defaultText: '(auto)',
    doc: '`1` seeds demo data at start-up, `0` starts empty. Default: only when the embedded database is new.',
  }),
  timezone: v.string('LOKET_TIMEZONE', {
    default: 'Asia/Jakarta',
    doc: "IANA time zone of the timestamps in module responses and callbacks (ISO 8601 with the zone's offset, e.g. `2025-12-15T09:37:29+07:00`).",
    check: (z) => (isTimeZone(z) ? undefined : 'must be an IANA time zone such as Asia/Jakarta or UTC'),
  }),
  rateLimits: v.bool('LOKET_RATE_LIMITS', { default: true, doc: '`off` disables every rate limit.' }),
  logLevel: v.enum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    doc: 'pino level: fatal, error, warn, info, debug, trace, silent.',
  }),
  bodyLimit: v.int('BODY_LIMIT', {
    default: 1_048_576,
    min: 1024,
    max: 1_073_741_824,
    doc: 'Largest accepted request body in bytes (routes may allow more).',
  }),
  outboundAllow: v.list('LOKET_OUTBOUND_ALLOW', {
    doc: 'Hosts or address ranges (`127.0.0.1`, `10.0.0.0/8`, `hooks.lan`) that user-given URLs (PPOB callbacks) may reach although they are private or loopback. Empty: only public addresses. For development and local tests.',
  }),
  corsOrigins: v.list('CORS_ORIGINS', {
    doc: 'Comma-separated allowed origins, `*` for any. Empty: no CORS headers.',
  }),
  corsAllowMethods: v.custom<string[]>('CORS_ALLOW_METHODS', {
    default: [...HTTP_METHODS],
    doc: 'Comma-separated methods a cross-origin request may use; `*`, like the default, is every method a route has.',
    parse: (raw, report) => {
      const names = raw
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s !== '');
      if (names.includes('*')) return [...HTTP_METHODS];
      const unknown = names.filter((n) => !(HTTP_METHODS as readonly string[]).includes(n));
      if (unknown.length > 0) {
        report(`CORS_ALLOW_METHODS has unknown method(s) ${unknown.join(', ')}; known: ${HTTP_METHODS.join(', ')}`);
      }
      return HTTP_METHODS.filter((m) => names.includes(m));
    },
  }),
  /** `['*']`: whatever headers the browser asks for. */
  corsAllowHeaders: v.custom<string[]>('CORS_ALLOW_HEADERS', {
    default: ['*'],
    doc: 'Comma-separated request headers a cross-origin request may send, `*` for whichever the browser asks for.',
    parse: (raw, report) => {
      const names = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (names.includes('*')) return ['*'];
      const bad = names.filter((n) => !/^[A-Za-z0-9!#$%&'+.^_`|~-]+$/.test(n));
      if (bad.length > 0) report(`CORS_ALLOW_HEADERS has invalid header name(s) ${bad.join(', ')}`);
      return names;
    },
  }),
  corsAllowCredentials: v.bool('CORS_ALLOW_CREDENTIALS', {
    default: false,
    doc: '`on` lets cross-origin requests carry credentials (cookies, HTTP authentication): answers name the calling origin and `Access-Control-Allow-Credentials: true`.',
  }),
  securityHeaders: v.bool('SECURITY_HEADERS', {
    default: true,
    doc: '`off` disables the security headers (helmet).',
  }),
  trustProxy: v.bool('TRUST_PROXY', {
    default: false,
    doc: '`on` when behind a reverse proxy: client IP taken from X-Forwarded-For.',
  }),
  shutdownTimeoutMs: v.int('SHUTDOWN_TIMEOUT_MS', {
    default: 10_000,
    min: 0,
    max: 600_000,
    doc: 'How long SIGTERM waits for requests and jobs to finish.',
  }),
  shutdownDrainMs: v.int('SHUTDOWN_DRAIN_MS', {
    default: 0,
    min: 0,
    max: 120_000,
    doc: "Behind a load balancer: after SIGTERM, keep serving this long with `/ready` failing and every answer closing its connection, so the balancer moves traffic away before the listener closes. Set it above the balancer's health-check interval × failures (deploy/haproxy.cfg: 5000).",
  }),
  wsPingSeconds: v.int('WS_PING_SECONDS', {
    default: 30,
    min: 1,
    max: 600,
    doc: 'How often the server pings an open notification WebSocket; one that did not answer the last ping is dropped.',
  }),
});

const storage = group('Database, Redis and jobs', {
  databaseUrl: v.url('DATABASE_URL', {
    protocols: ['postgres:', 'postgresql:'],
    defaultText: '(embedded)',
    example: 'postgres://postgres@127.0.0.1:5432/loket',
    doc: 'PostgreSQL connection string. Unset: embedded PostgreSQL (PGlite) persisted in `LOKET_DATA_DIR`.',
  }),
  databasePoolSize: v.int('DATABASE_POOL_SIZE', {
    default: 10,
    min: 1,
    max: 500,
    doc: 'Connections per instance in the PostgreSQL pool (the embedded database always uses one).',
  }),
  dataDir: v.string('LOKET_DATA_DIR', { default: './data', doc: 'Where the embedded database and local files live.' }),
  embeddedSharedBuffersMb: v.int('LOKET_EMBEDDED_SHARED_BUFFERS_MB', {
    default: 16,
    min: 1,
    max: 1024,
    doc: "The embedded database's page cache (PostgreSQL's `shared_buffers`), in MB. Its files stay in the system's cache as well.",
  }),
  embeddedImageDir: v.string('LOKET_EMBEDDED_IMAGE_DIR', {
    defaultText: '(node_modules/.cache/loket)',
    example: '/var/cache/loket',
    doc: 'Where the images a new embedded database starts from are kept (an empty cluster, and one with every migration applied; `npm install` makes them with `loket db prepare`): a new database loads one instead of running initdb and the migrations (docs/PERFORMANCE.md, "Embedded start"). `off`: always run initdb.',
  }),
  redisUrl: v.url('REDIS_URL', {
    protocols: ['redis:', 'rediss:'],
    defaultText: '(in-process)',
    example: 'redis://127.0.0.1:6379',
    doc: 'Redis for rate limits, caches and cross-instance notifications. Unset: in-process stores.',
  }),
  redisPrefix: v.string('REDIS_PREFIX', {
    default: 'loket:',
    doc: 'Prefix of every Redis key and channel, so several deployments can share one Redis.',
  }),
  migrateOnStart: v.bool('LOKET_MIGRATE_ON_START', { default: true, doc: '`off` skips migrations at start-up.' }),
  jobPollSeconds: v.int('JOB_POLL_SECONDS', {
    default: 1,
    min: 1,
    max: 60,
    doc: 'How often idle job workers look for new work.',
  }),
  jobSuperviseSeconds: v.int('JOB_SUPERVISE_SECONDS', {
    default: 30,
    min: 1,
    max: 3600,
    doc: 'How often the queue looks for jobs whose worker died (they run again once their time is up).',
  }),
});

const identity = group(
  'Accounts and secrets',
  {
    adminEmail: v.string('LOKET_ADMIN_EMAIL', {
      check: (s) => (/^[^@\s]+@[^@\s]+$/.test(s) ? undefined : `="${s}" is not an e-mail address`),
      doc: 'With `LOKET_ADMIN_PASSWORD`: a platform admin ensured at start-up.',
    }),
    adminPassword: v.secret('LOKET_ADMIN_PASSWORD', { doc: 'Password of the bootstrap platform admin.' }),
    secret: v.secret('LOKET_SECRET', {
      default: DEV_SECRET,
      defaultText: '(development value)',
      check: (s) => (s.length >= 32 ? undefined : 'must be at least 32 characters long'),
      doc: 'Master secret (≥ 32 characters): signs tokens and derives encryption keys. Required in production.',
    }),
    previousSecret: v.secret('LOKET_PREVIOUS_SECRET', {
      doc: 'The secret before the last rotation: tokens it signed stay valid until they expire.',
    }),
    accessTokenTtlMinutes: v.int('ACCESS_TOKEN_TTL_MINUTES', {
      default: 60,
      min: 1,
      max: 24 * 60,
      doc: 'Lifetime of a bearer access token.',
    }),
    refreshTokenTtlDays: v.int('REFRESH_TOKEN_TTL_DAYS', {
      default: 7,
      min: 1,
      max: 365,
      doc: 'Lifetime of a refresh token (rotated on every use).',
    }),
    passwordMinLength: v.int('PASSWORD_MIN_LENGTH', {
      default: 8,
      min: 8,
      max: 128,
      doc: 'Shortest password accepted.',
    }),
  },
  (c, report) => {
    if ((c.adminEmail === undefined) !== (c.adminPassword === undefined)) {
      report('LOKET_ADMIN_EMAIL and LOKET_ADMIN_PASSWORD must be set together');
    }
  },
);

const mail = group('E-mail', {
  smtpUrl: v.url('SMTP_URL', {
    protocols: ['smtp:', 'smtps:'],
    secret: true,
    example: 'smtp://127.0.0.1:1025',
    doc: 'SMTP server for e-mail (`smtp://user:pass@host:587`). Unset: messages stay in the outbox (`/_dev/outbox`).',
  }),
  mailFrom: v.string('MAIL_FROM', { default: 'Loket <no-reply@loket.local>', doc: 'Sender address of e-mail.' }),
});

const payments = group(
  'Payments',
  {
    xenditSecretKey: v.secret('XENDIT_SECRET_KEY', {
      aliases: ['XENDIT_API_KEY'],
      defaultText: '(simulator)',
      doc: 'Xendit secret API key. Unset: payments run on the built-in simulator (valid QRIS codes, nothing charged); production refuses to start without it when a module takes payments.',
    }),
    xenditBaseUrl: v.url('XENDIT_BASE_URL', {
      protocols: URL_SCHEMES,
      trimSlash: true,
      default: 'https://api.xendit.co',
      doc: 'Xendit API base URL.',
    }),
    xenditQrApiVersion: v.enum('XENDIT_QR_API_VERSION', ['v1', 'v2'], {
      default: 'v2',
      doc: '`v2` (api-version 2022-07-31) or `v1` (legacy QR codes).',
    }),
    xenditCallbackToken: v.string('XENDIT_CALLBACK_TOKEN', {
      secret: true,
      // Without Xendit the simulator signs its own callbacks with a token derived from the master secret.
      default: v.derived(
        '(derived from LOKET_SECRET for the simulator)',
        (c: { xenditSecretKey: string | undefined; secret: string }) =>
          c.xenditSecretKey
            ? undefined
            : createHash('sha256').update(`loket:xendit-callback:${c.secret}`).digest('hex'),
      ),
      doc: 'Xendit callback verification token, checked on every webhook (without it, with Xendit, webhooks get 503).',
    }),
    xenditAccountKeys: v.pattern('XENDIT_API_KEY_', 'NAME', {
      secret: true,
      doc: "Secret key of a Xendit account of its own, by name (a billing brand's `xendit_key_name`, e.g. `XENDIT_API_KEY_JAKINET`): that account's payments are made with it. A name without one uses `XENDIT_SECRET_KEY`, else the simulator. Needs `XENDIT_CALLBACK_TOKEN_<NAME>`.",
    }),
    xenditAccountTokens: v.pattern('XENDIT_CALLBACK_TOKEN_', 'NAME', {
      secret: true,
      doc: "Callback verification token of the account `XENDIT_API_KEY_<NAME>`: a callback for a payment made with that account is accepted only with this token (the platform's token is refused for it, and this one for every other payment).",
    }),
    xenditTimeoutMs: v.int('XENDIT_TIMEOUT_MS', {
      default: 10_000,
      min: 100,
      max: 120_000,
      doc: 'Timeout of each call to Xendit.',
    }),
    merchantName: v.string('PAYMENT_MERCHANT_NAME', {
      default: 'LOKET',
      check: (s) => (s.length <= 25 ? undefined : 'must be at most 25 characters'),
      doc: 'Merchant name in simulator QRIS codes (≤ 25 characters).',
    }),
    merchantCity: v.string('PAYMENT_MERCHANT_CITY', {
      default: 'JAKARTA',
      check: (s) => (s.length <= 15 ? undefined : 'must be at most 15 characters'),
      doc: 'Merchant city in simulator QRIS codes (≤ 15 characters).',
    }),
  },
  (c, report) => {
    // An account of its own needs both: without its token its callbacks could never be verified.
    for (const name of Object.keys(c.xenditAccountKeys)) {
      if (!c.xenditAccountTokens[name]) report(`XENDIT_API_KEY_${name} needs XENDIT_CALLBACK_TOKEN_${name}`);
    }
    for (const name of Object.keys(c.xenditAccountTokens)) {
      if (!c.xenditAccountKeys[name]) report(`XENDIT_CALLBACK_TOKEN_${name} needs XENDIT_API_KEY_${name}`);
    }
  },
);

const files = group('File storage', {
  /** Local file storage root; undefined = LOKET_DATA_DIR/files. */
  storageDir: v.string('STORAGE_DIR', {
    defaultText: 'LOKET_DATA_DIR/files',
    doc: 'Where uploaded files (photobox photos) are kept when no S3 store is configured.',
  }),
  s3: v.section(
    {
      endpoint: v.url('S3_ENDPOINT', {
        protocols: URL_SCHEMES,
        trimSlash: true,
        example: 'https://s3.ap-southeast-1.amazonaws.com',
        doc: 'S3-compatible object store for uploaded files (AWS S3, MinIO, R2, …). Unset: local files in STORAGE_DIR.',
      }),
      bucket: v.string('S3_BUCKET', {
        check: (s) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) ? undefined : `="${s}" is not a valid bucket name`),
        doc: 'Bucket of the object store (required with S3_ENDPOINT).',
      }),
      region: v.string('S3_REGION', {
        default: 'us-east-1',
        doc: 'Region used in the request signature (AWS Signature V4).',
      }),
      accessKeyId: v.string('S3_ACCESS_KEY_ID', { doc: 'Access key id of the object store.' }),
      secretAccessKey: v.secret('S3_SECRET_ACCESS_KEY', { doc: 'Secret access key of the object store.' }),
      forcePathStyle: v.bool('S3_FORCE_PATH_STYLE', {
        default: true,
        doc: '`on`: `ENDPOINT/BUCKET/key` (MinIO and most self-hosted stores); `off`: `BUCKET.ENDPOINT/key` (virtual-hosted).',
      }),
      timeoutMs: v.int('S3_TIMEOUT_MS', {
        default: 30_000,
        min: 100,
        max: 600_000,
        doc: 'Timeout of each call to the object store.',
      }),
    },
    { when: 'endpoint', requires: ['bucket', 'accessKeyId', 'secretAccessKey'] },
  ),
});

/** Every declaration, in the order the docs list them: the core's, then each module's. */
export const CONFIG_GROUPS = [
  server,
  storage,
  identity,
  mail,
  payments,
  files,
  ppobConfig,
  photoboxConfig,
  im3Config,
] as const satisfies readonly Group[];
assertDistinct(CONFIG_GROUPS);

type Groups = typeof CONFIG_GROUPS;
type Flat<T> = { [K in keyof T]: T[K] };
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type AllEntries = UnionToIntersection<Groups[number]['entries']>;

/** Loket's configuration, inferred from the declarations. */
export type Config = Flat<Values<AllEntries>>;
export type S3Config = NonNullable<Config['s3']>;

// Every computed default reads only configuration values (a compile-time check).
type Needed = UnionToIntersection<ContextOf<AllEntries>>;
const computedDefaultsReadConfig: Config extends Needed ? true : never = true;
void computedDefaultsReadConfig;

/** Every variable, flattened (name, doc, default as shown, example, secret). */
export const VARIABLES: readonly VarDoc[] = variablesOf(CONFIG_GROUPS);

/** Parses the environment once. Collects every problem before failing, so one run shows them all. */
export function loadConfig(env: Env = process.env): Config {
  return readGroups<Config>(CONFIG_GROUPS, env, checkAcross);
}

/**
 * The real providers each module needs in production (CONTRACTS §6: never a simulator in silence): what is missing,
 * naming the variable, or undefined.
 */
const REAL_PROVIDERS: Record<ModuleName, (c: Config) => string | undefined> = {
  ppob: (c) => (c.ppobProvider === 'simulator' ? 'PPOB_PROVIDER=digiflazz (purchases)' : undefined),
  photobox: () => undefined,
  staff: () => undefined,
  billing: () => undefined,
  im3: (c) => (c.im3Provider === 'simulator' ? 'IM3_PROVIDER=http (the operator API)' : undefined),
};
/** Modules that take money through Xendit (QRIS, invoices, deposits). */
const XENDIT_MODULES: readonly ModuleName[] = ['ppob', 'photobox', 'billing'];

/** Checks that span groups: production refuses development secrets and simulated providers. */
function checkAcross(c: Config, report: (text: string) => void): void {
  if (c.env === 'production') {
    if (c.secret === DEV_SECRET) report('LOKET_ENV=production needs LOKET_SECRET set to your own random value');
    if (c.adminPassword !== undefined && c.adminPassword.length < 12) {
      report('LOKET_ENV=production needs LOKET_ADMIN_PASSWORD of at least 12 characters');
    }
    const paying = c.modules.filter((m) => XENDIT_MODULES.includes(m));
    if (paying.length > 0 && !c.xenditSecretKey) {
      report(
        `LOKET_ENV=production with ${paying.join(', ')} needs XENDIT_SECRET_KEY (or XENDIT_API_KEY): without it payments would run on the simulator, whose QR codes no bank app can pay`,
      );
    }
    for (const m of c.modules) {
      const missing = REAL_PROVIDERS[m](c);
      if (missing) report(`LOKET_ENV=production with ${m} needs ${missing}: the simulator is for development`);
    }
  }
}

/** `.env.example`, generated from the declarations. */
export function renderEnvExample(): string {
  return renderEnv(CONFIG_GROUPS, '# Loket configuration. Every variable is optional in development; see README.md.');
}

/** The README's configuration tables, generated from the declarations. */
export function renderConfigTable(): string {
  return renderTable(CONFIG_GROUPS);
}

/** `readme` with its configuration tables (between `<!-- config:start -->` and `<!-- config:end -->`) regenerated. */
export function renderReadme(readme: string): string {
  return replaceBetweenMarkers(readme, renderConfigTable());
}
