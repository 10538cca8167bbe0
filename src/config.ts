import { createHash } from 'node:crypto';

// The one place that reads process.env. Every variable Loket understands is declared in VARIABLES below;
// `.env.example` and the README's configuration table are generated from the same list
// (`npm run loket -- config`), so documentation cannot drift from the parser.

export const DEV_SECRET = 'loket-development-secret-change-me-0000000000';

export const ALL_MODULES = ['ppob', 'photobox', 'staff', 'billing', 'im3'] as const;
export type ModuleName = (typeof ALL_MODULES)[number];

export interface Config {
  env: 'development' | 'production';
  host: string;
  port: number;
  publicUrl: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  modules: ModuleName[];
  /** undefined = decide at start-up: seed only when the embedded database was created fresh. */
  demo: boolean | undefined;
  rateLimits: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  secret: string;
  previousSecret: string | undefined;
  accessTokenTtlMinutes: number;
  refreshTokenTtlDays: number;
  passwordMinLength: number;
  smtpUrl: string | undefined;
  xenditSecretKey: string | undefined;
  xenditBaseUrl: string;
  xenditQrApiVersion: 'v1' | 'v2';
  xenditCallbackToken: string | undefined;
  xenditTimeoutMs: number;
  merchantName: string;
  merchantCity: string;
  ppobProvider: 'simulator' | 'digiflazz';
  ppobSimulatorDelayMs: number;
  ppobTrxPrefix: string;
  digiflazzUsername: string | undefined;
  digiflazzApiKey: string | undefined;
  digiflazzWebhookSecret: string | undefined;
  digiflazzBaseUrl: string;
  digiflazzTesting: boolean;
  ppobProviderTimeoutMs: number;
  ppobDispatchConcurrency: number;
  im3Provider: 'simulator' | 'http';
  im3SimulatorStepMs: number;
  im3EligibilityAttempts: number;
  im3EligibilityIntervalMs: number;
  im3PaymentPollMs: number;
  im3PaymentTimeoutMs: number;
  im3BaseUrl: string | undefined;
  im3Authorization: string | undefined;
  im3ServiceKey: string | undefined;
  im3Rc4Key: string | undefined;
  im3AppOs: string | undefined;
  im3AppVersion: string | undefined;
  /** Further static headers of every operator request (the app's device headers), from IM3_HEADERS. */
  im3Headers: Record<string, string>;
  im3PaymentStatusPath: string | undefined;
  im3TimeoutMs: number;
  photoboxAmount: number;
  photoboxMaxFilesPerUpload: number;
  photoboxMaxPhotosPerTransaction: number;
  /** Link to the gallery in the photo e-mail; `{external_id}` is replaced. */
  photoboxGalleryUrl: string;
  encryptionEnabled: boolean;
  encryptionKey: string | undefined;
  encryptionIv: string | undefined;
  /** Local file storage root; undefined = LOKET_DATA_DIR/files. */
  storageDir: string | undefined;
  s3: S3Config | undefined;
  mailFrom: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  corsOrigins: string[];
  securityHeaders: boolean;
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  migrateOnStart: boolean;
  jobPollSeconds: number;
  jobSuperviseSeconds: number;
}

export interface S3Config {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  timeoutMs: number;
}

interface VarDef {
  name: string;
  doc: string;
  example?: string;
  /** Default written into the docs; the parser applies its own. */
  defaultText: string;
  secret?: boolean;
}

export const VARIABLES: VarDef[] = [
  { name: 'HOST', doc: 'Interface the HTTP server binds to.', defaultText: '127.0.0.1' },
  { name: 'PORT', doc: 'HTTP port.', defaultText: '8000' },
  {
    name: 'PUBLIC_URL',
    doc: 'Base URL clients use to reach Loket (links in e-mails, callback URLs).',
    defaultText: 'http://HOST:PORT',
  },
  {
    name: 'LOKET_ENV',
    doc: '`development` or `production`. Production refuses default secrets and disables every `/_dev/*` route.',
    defaultText: 'development',
  },
  {
    name: 'DATABASE_URL',
    doc: 'PostgreSQL connection string. Unset: embedded PostgreSQL (PGlite) persisted in `LOKET_DATA_DIR`.',
    defaultText: '(embedded)',
    example: 'postgres://postgres@127.0.0.1:5432/loket',
  },
  {
    name: 'DATABASE_POOL_SIZE',
    doc: 'Connections per instance in the PostgreSQL pool (the embedded database always uses one).',
    defaultText: '10',
  },
  { name: 'LOKET_DATA_DIR', doc: 'Where the embedded database and local files live.', defaultText: './data' },
  {
    name: 'REDIS_URL',
    doc: 'Redis for rate limits, caches and cross-instance notifications. Unset: in-process stores.',
    defaultText: '(in-process)',
    example: 'redis://127.0.0.1:6379',
  },
  {
    name: 'REDIS_PREFIX',
    doc: 'Prefix of every Redis key and channel, so several deployments can share one Redis.',
    defaultText: 'loket:',
  },
  { name: 'LOKET_MODULES', doc: 'Comma-separated modules to mount.', defaultText: ALL_MODULES.join(',') },
  {
    name: 'LOKET_DEMO',
    doc: '`1` seeds demo data at start-up, `0` starts empty. Default: only when the embedded database is new.',
    defaultText: '(auto)',
  },
  { name: 'LOKET_RATE_LIMITS', doc: '`off` disables every rate limit.', defaultText: 'on' },
  {
    name: 'LOKET_ADMIN_EMAIL',
    doc: 'With `LOKET_ADMIN_PASSWORD`: a platform admin ensured at start-up.',
    defaultText: '(none)',
  },
  {
    name: 'LOKET_ADMIN_PASSWORD',
    doc: 'Password of the bootstrap platform admin.',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'LOKET_SECRET',
    doc: 'Master secret (≥ 32 characters): signs tokens and derives encryption keys. Required in production.',
    defaultText: '(development value)',
    secret: true,
  },
  {
    name: 'LOKET_PREVIOUS_SECRET',
    doc: 'The secret before the last rotation: tokens it signed stay valid until they expire.',
    defaultText: '(none)',
    secret: true,
  },
  { name: 'ACCESS_TOKEN_TTL_MINUTES', doc: 'Lifetime of a bearer access token.', defaultText: '60' },
  { name: 'REFRESH_TOKEN_TTL_DAYS', doc: 'Lifetime of a refresh token (rotated on every use).', defaultText: '7' },
  { name: 'PASSWORD_MIN_LENGTH', doc: 'Shortest password accepted.', defaultText: '8' },
  {
    name: 'SMTP_URL',
    doc: 'SMTP server for e-mail (`smtp://user:pass@host:587`). Unset: messages stay in the outbox (`/_dev/outbox`).',
    defaultText: '(none)',
    secret: true,
    example: 'smtp://127.0.0.1:1025',
  },
  { name: 'MAIL_FROM', doc: 'Sender address of e-mail.', defaultText: 'Loket <no-reply@loket.local>' },
  {
    name: 'XENDIT_SECRET_KEY',
    doc: 'Xendit secret API key. Unset: payments run on the built-in simulator (valid QRIS codes, nothing charged).',
    defaultText: '(simulator)',
    secret: true,
  },
  { name: 'XENDIT_BASE_URL', doc: 'Xendit API base URL.', defaultText: 'https://api.xendit.co' },
  { name: 'XENDIT_QR_API_VERSION', doc: '`v2` (api-version 2022-07-31) or `v1` (legacy QR codes).', defaultText: 'v2' },
  {
    name: 'XENDIT_CALLBACK_TOKEN',
    doc: 'Xendit callback verification token, checked on every webhook (without it, with Xendit, webhooks get 503).',
    defaultText: '(derived from LOKET_SECRET for the simulator)',
    secret: true,
  },
  { name: 'XENDIT_TIMEOUT_MS', doc: 'Timeout of each call to Xendit.', defaultText: '10000' },
  {
    name: 'PAYMENT_MERCHANT_NAME',
    doc: 'Merchant name in simulator QRIS codes (≤ 25 characters).',
    defaultText: 'LOKET',
  },
  {
    name: 'PAYMENT_MERCHANT_CITY',
    doc: 'Merchant city in simulator QRIS codes (≤ 15 characters).',
    defaultText: 'JAKARTA',
  },
  { name: 'PPOB_PROVIDER', doc: '`simulator` or `digiflazz`.', defaultText: 'simulator' },
  {
    name: 'PPOB_SIMULATOR_DELAY_MS',
    doc: 'How long the simulator takes to finish a purchase (a number ending in 000 fails).',
    defaultText: '2000',
  },
  { name: 'PPOB_TRX_PREFIX', doc: 'Prefix of PPOB transaction ids (letters, at most 6).', defaultText: 'LKT' },
  { name: 'DIGIFLAZZ_USERNAME', doc: 'Digiflazz username.', defaultText: '(none)' },
  {
    name: 'DIGIFLAZZ_API_KEY',
    doc: 'Digiflazz API key (production or development key).',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'DIGIFLAZZ_WEBHOOK_SECRET',
    doc: 'Secret of the Digiflazz webhook (X-Hub-Signature).',
    defaultText: '(none)',
    secret: true,
  },
  { name: 'DIGIFLAZZ_BASE_URL', doc: 'Digiflazz API base URL.', defaultText: 'https://api.digiflazz.com' },
  { name: 'DIGIFLAZZ_TESTING', doc: '`on` sends `testing: true` (Digiflazz sandbox behaviour).', defaultText: 'off' },
  { name: 'PPOB_PROVIDER_TIMEOUT_MS', doc: 'Timeout of each call to the PPOB provider.', defaultText: '20000' },
  {
    name: 'PPOB_DISPATCH_CONCURRENCY',
    doc: 'Provider calls in flight at once per instance (purchases submitted or re-checked).',
    defaultText: '128',
  },
  {
    name: 'IM3_PROVIDER',
    doc: '`simulator` (OTP to the outbox as SMS; a number ending in 0000 is not eligible) or `http` (the operator API).',
    defaultText: 'simulator',
  },
  { name: 'IM3_SIMULATOR_STEP_MS', doc: 'Pause of the IM3 simulator between purchase steps.', defaultText: '1000' },
  {
    name: 'IM3_ELIGIBILITY_ATTEMPTS',
    doc: 'How often a purchase asks the operator whether the number is eligible before it fails.',
    defaultText: '5',
  },
  { name: 'IM3_ELIGIBILITY_INTERVAL_MS', doc: 'Pause between two eligibility questions.', defaultText: '3000' },
  {
    name: 'IM3_PAYMENT_POLL_MS',
    doc: 'Pause between two questions whether the payment was made.',
    defaultText: '5000',
  },
  {
    name: 'IM3_PAYMENT_TIMEOUT_MS',
    doc: 'A purchase whose payment is not made within this long after its QR code is FAILED.',
    defaultText: '900000',
  },
  { name: 'IM3_BASE_URL', doc: 'Base URL of the operator API (`IM3_PROVIDER=http`).', defaultText: '(none)' },
  {
    name: 'IM3_AUTHORIZATION',
    doc: 'Value of the `Authorization` header of every operator request (`IM3_PROVIDER=http`).',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'IM3_SERVICE_KEY',
    doc: 'Value of the `X-Imi-Servicekey` header of every operator request.',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'IM3_RC4_KEY',
    doc: 'RC4 key of the operator requests whose body is encrypted (the eligibility check).',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'IM3_APP_OS',
    doc: 'App OS sent as `X-Imi-App-Os` and signed in `X-Imi-Hash`.',
    defaultText: '(none)',
  },
  {
    name: 'IM3_APP_VERSION',
    doc: 'App version sent as `X-Imi-Version` and signed in `X-Imi-Hash`.',
    defaultText: '(none)',
  },
  {
    name: 'IM3_HEADERS',
    doc: "Further static headers of every operator request, as a JSON object of strings (the app's device headers).",
    defaultText: '{}',
    secret: true,
  },
  {
    name: 'IM3_PAYMENT_STATUS_PATH',
    doc: 'Path (under `IM3_BASE_URL`) that answers whether a QRIS payment was made; the original app has no such call.',
    defaultText: '(none)',
  },
  { name: 'IM3_TIMEOUT_MS', doc: 'Timeout of each call to the operator API.', defaultText: '15000' },
  {
    name: 'PHOTOBOX_AMOUNT',
    doc: 'Price of a photobox session in rupiah when the kiosk names no `price_id`.',
    defaultText: '40000',
  },
  {
    name: 'PHOTOBOX_MAX_FILES_PER_UPLOAD',
    doc: 'Most photos one upload request may carry (each at most 10 MB, JPEG or PNG).',
    defaultText: '20',
  },
  {
    name: 'PHOTOBOX_MAX_PHOTOS_PER_TRANSACTION',
    doc: 'Most photos one photobox transaction may have in all.',
    defaultText: '50',
  },
  {
    name: 'PHOTOBOX_GALLERY_URL',
    doc: 'Gallery link in the photo e-mail; `{external_id}` is replaced by the transaction.',
    defaultText: 'PUBLIC_URL/photobox/gallery/{external_id}',
  },
  {
    name: 'ENCRYPTION_ENABLED',
    doc: '`on` encrypts the two Photobox kiosk reads (polling and photos) with AES-256-CBC, as the seed document does (see docs/PHOTOBOX.md).',
    defaultText: 'off',
  },
  {
    name: 'ENCRYPTION_KEY',
    doc: 'Photobox response key: exactly 32 characters (`openssl rand -hex 16`). Required when ENCRYPTION_ENABLED=on.',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'ENCRYPTION_IV',
    doc: 'Photobox response IV: exactly 16 characters (`openssl rand -hex 8`). Required when ENCRYPTION_ENABLED=on.',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'STORAGE_DIR',
    doc: 'Where uploaded files (photobox photos) are kept when no S3 store is configured.',
    defaultText: 'LOKET_DATA_DIR/files',
  },
  {
    name: 'S3_ENDPOINT',
    doc: 'S3-compatible object store for uploaded files (AWS S3, MinIO, R2, …). Unset: local files in STORAGE_DIR.',
    defaultText: '(none)',
    example: 'https://s3.ap-southeast-1.amazonaws.com',
  },
  { name: 'S3_BUCKET', doc: 'Bucket of the object store (required with S3_ENDPOINT).', defaultText: '(none)' },
  { name: 'S3_REGION', doc: 'Region used in the request signature (AWS Signature V4).', defaultText: 'us-east-1' },
  { name: 'S3_ACCESS_KEY_ID', doc: 'Access key id of the object store.', defaultText: '(none)' },
  {
    name: 'S3_SECRET_ACCESS_KEY',
    doc: 'Secret access key of the object store.',
    defaultText: '(none)',
    secret: true,
  },
  {
    name: 'S3_FORCE_PATH_STYLE',
    doc: '`on`: `ENDPOINT/BUCKET/key` (MinIO and most self-hosted stores); `off`: `BUCKET.ENDPOINT/key` (virtual-hosted).',
    defaultText: 'on',
  },
  { name: 'S3_TIMEOUT_MS', doc: 'Timeout of each call to the object store.', defaultText: '30000' },
  { name: 'LOG_LEVEL', doc: 'pino level: fatal, error, warn, info, debug, trace, silent.', defaultText: 'info' },
  {
    name: 'BODY_LIMIT',
    doc: 'Largest accepted request body in bytes (routes may allow more).',
    defaultText: '1048576',
  },
  {
    name: 'CORS_ORIGINS',
    doc: 'Comma-separated allowed origins, `*` for any. Empty: no CORS headers.',
    defaultText: '(none)',
  },
  { name: 'SECURITY_HEADERS', doc: '`off` disables the security headers (helmet).', defaultText: 'on' },
  {
    name: 'TRUST_PROXY',
    doc: '`on` when behind a reverse proxy: client IP taken from X-Forwarded-For.',
    defaultText: 'off',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    doc: 'How long SIGTERM waits for requests and jobs to finish.',
    defaultText: '10000',
  },
  { name: 'LOKET_MIGRATE_ON_START', doc: '`off` skips migrations at start-up.', defaultText: 'on' },
  { name: 'JOB_POLL_SECONDS', doc: 'How often idle job workers look for new work.', defaultText: '1' },
  {
    name: 'JOB_SUPERVISE_SECONDS',
    doc: 'How often the queue looks for jobs whose worker died (they run again once their time is up).',
    defaultText: '30',
  },
];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Loket cannot start, the configuration has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** Parses the environment once. Collects every problem before failing, so one run shows them all. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const known = new Set(VARIABLES.map((v) => v.name));
  const get = (name: string): string | undefined => {
    if (!known.has(name)) throw new Error(`config variable ${name} is not declared in VARIABLES`);
    const raw = env[name];
    if (raw === undefined) return undefined;
    const trimmed = raw.trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!/^-?\d+$/.test(raw)) {
      problems.push(`${name}="${raw}" is not a whole number`);
      return def;
    }
    const n = Number(raw);
    if (n < min || n > max) problems.push(`${name}=${n} must be between ${min} and ${max}`);
    return n;
  };
  const flag = (name: string, def: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (['1', 'on', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'off', 'false', 'no'].includes(raw)) return false;
    problems.push(`${name}="${raw}" must be on/off (or 1/0, true/false)`);
    return def;
  };
  const oneOf = <T extends string>(name: string, values: readonly T[], def: T): T => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!(values as readonly string[]).includes(raw)) {
      problems.push(`${name}="${raw}" must be one of: ${values.join(', ')}`);
      return def;
    }
    return raw as T;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must start with ${protocols.join(' or ')}`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const nodeEnv = oneOf('LOKET_ENV', ['development', 'production'] as const, 'development');
  const host = get('HOST') ?? '127.0.0.1';
  const port = int('PORT', 8000, 0, 65535);
  const publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://${host}:${port}`).replace(/\/+$/, '');
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);

  const modulesRaw = get('LOKET_MODULES');
  let modules: ModuleName[] = [...ALL_MODULES];
  if (modulesRaw !== undefined) {
    const names = modulesRaw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const unknown = names.filter((n) => !(ALL_MODULES as readonly string[]).includes(n));
    if (unknown.length > 0) {
      problems.push(`LOKET_MODULES has unknown module(s) ${unknown.join(', ')}; known: ${ALL_MODULES.join(', ')}`);
    }
    modules = ALL_MODULES.filter((m) => names.includes(m));
  }

  const demoRaw = get('LOKET_DEMO');
  const demo = demoRaw === undefined ? undefined : flag('LOKET_DEMO', false);

  const secret = get('LOKET_SECRET') ?? DEV_SECRET;
  if (secret.length < 32) problems.push('LOKET_SECRET must be at least 32 characters long');

  const adminEmail = get('LOKET_ADMIN_EMAIL');
  const adminPassword = env.LOKET_ADMIN_PASSWORD === undefined ? undefined : get('LOKET_ADMIN_PASSWORD');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    problems.push('LOKET_ADMIN_EMAIL and LOKET_ADMIN_PASSWORD must be set together');
  }
  if (adminEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    problems.push(`LOKET_ADMIN_EMAIL="${adminEmail}" is not an e-mail address`);
  }

  const xenditSecretKey = get('XENDIT_SECRET_KEY');
  if ((get('PAYMENT_MERCHANT_NAME') ?? '').length > 25)
    problems.push('PAYMENT_MERCHANT_NAME must be at most 25 characters');
  if ((get('PAYMENT_MERCHANT_CITY') ?? '').length > 15)
    problems.push('PAYMENT_MERCHANT_CITY must be at most 15 characters');

  const ppobProvider = oneOf('PPOB_PROVIDER', ['simulator', 'digiflazz'] as const, 'simulator');
  if (ppobProvider === 'digiflazz' && (!get('DIGIFLAZZ_USERNAME') || !get('DIGIFLAZZ_API_KEY'))) {
    problems.push('PPOB_PROVIDER=digiflazz needs DIGIFLAZZ_USERNAME and DIGIFLAZZ_API_KEY');
  }
  const im3Provider = oneOf('IM3_PROVIDER', ['simulator', 'http'] as const, 'simulator');
  const IM3_HTTP_NEEDS = [
    'IM3_BASE_URL',
    'IM3_AUTHORIZATION',
    'IM3_SERVICE_KEY',
    'IM3_RC4_KEY',
    'IM3_APP_OS',
    'IM3_APP_VERSION',
    'IM3_PAYMENT_STATUS_PATH',
  ];
  if (im3Provider === 'http' && IM3_HTTP_NEEDS.some((name) => !get(name))) {
    problems.push(`IM3_PROVIDER=http needs ${IM3_HTTP_NEEDS.join(', ')}`);
  }
  const im3Headers: Record<string, string> = {};
  const im3HeadersRaw = get('IM3_HEADERS');
  if (im3HeadersRaw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(im3HeadersRaw);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      Object.entries(parsed).some(([k, v]) => typeof v !== 'string' || !/^[A-Za-z0-9-]+$/.test(k))
    ) {
      problems.push('IM3_HEADERS must be a JSON object of header names to strings');
    } else Object.assign(im3Headers, parsed);
  }
  const im3PaymentStatusPath = get('IM3_PAYMENT_STATUS_PATH');
  if (im3PaymentStatusPath !== undefined && !/^\/[\x21-\x7e]*$/.test(im3PaymentStatusPath)) {
    problems.push('IM3_PAYMENT_STATUS_PATH must start with /');
  }
  const ppobTrxPrefix = get('PPOB_TRX_PREFIX') ?? 'LKT';
  if (!/^[A-Z]{1,6}$/.test(ppobTrxPrefix)) problems.push('PPOB_TRX_PREFIX must be 1-6 capital letters');

  const encryptionEnabled = flag('ENCRYPTION_ENABLED', false);
  const encryptionKey = get('ENCRYPTION_KEY');
  const encryptionIv = get('ENCRYPTION_IV');
  if (encryptionEnabled) {
    // The document's scheme uses the characters' UTF-8 bytes as they are: 32 bytes of key, 16 of IV.
    if (encryptionKey === undefined || Buffer.byteLength(encryptionKey, 'utf8') !== 32) {
      problems.push(
        'ENCRYPTION_ENABLED=on needs ENCRYPTION_KEY of exactly 32 characters (for example `openssl rand -hex 16`)',
      );
    }
    if (encryptionIv === undefined || Buffer.byteLength(encryptionIv, 'utf8') !== 16) {
      problems.push(
        'ENCRYPTION_ENABLED=on needs ENCRYPTION_IV of exactly 16 characters (for example `openssl rand -hex 8`)',
      );
    }
  }

  const s3Endpoint = url('S3_ENDPOINT', ['http:', 'https:']);
  let s3: S3Config | undefined;
  if (s3Endpoint !== undefined) {
    const missing = ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((n) => get(n) === undefined);
    if (missing.length > 0) problems.push(`S3_ENDPOINT needs ${missing.join(', ')}`);
    const bucket = get('S3_BUCKET') ?? '';
    if (bucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      problems.push(`S3_BUCKET="${bucket}" is not a valid bucket name`);
    }
    s3 = {
      endpoint: s3Endpoint.replace(/\/+$/, ''),
      bucket,
      region: get('S3_REGION') ?? 'us-east-1',
      accessKeyId: get('S3_ACCESS_KEY_ID') ?? '',
      secretAccessKey: get('S3_SECRET_ACCESS_KEY') ?? '',
      forcePathStyle: flag('S3_FORCE_PATH_STYLE', true),
      timeoutMs: int('S3_TIMEOUT_MS', 30_000, 100, 600_000),
    };
  }
  const galleryUrl = get('PHOTOBOX_GALLERY_URL');
  if (galleryUrl !== undefined && !/^https?:\/\//.test(galleryUrl)) {
    problems.push('PHOTOBOX_GALLERY_URL must start with http:// or https://');
  }

  const corsRaw = get('CORS_ORIGINS');
  const corsOrigins = corsRaw === undefined ? [] : corsRaw.split(',').map((s) => s.trim());

  if (nodeEnv === 'production') {
    if (secret === DEV_SECRET) problems.push('LOKET_ENV=production needs LOKET_SECRET set to your own random value');
    if (adminPassword !== undefined && adminPassword.length < 12) {
      problems.push('LOKET_ENV=production needs LOKET_ADMIN_PASSWORD of at least 12 characters');
    }
  }

  const config: Config = {
    env: nodeEnv,
    host,
    port,
    publicUrl,
    databaseUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 500),
    dataDir: get('LOKET_DATA_DIR') ?? './data',
    redisUrl,
    redisPrefix: get('REDIS_PREFIX') ?? 'loket:',
    modules,
    demo,
    rateLimits: flag('LOKET_RATE_LIMITS', true),
    adminEmail,
    adminPassword,
    secret,
    previousSecret: get('LOKET_PREVIOUS_SECRET'),
    accessTokenTtlMinutes: int('ACCESS_TOKEN_TTL_MINUTES', 60, 1, 24 * 60),
    refreshTokenTtlDays: int('REFRESH_TOKEN_TTL_DAYS', 7, 1, 365),
    passwordMinLength: int('PASSWORD_MIN_LENGTH', 8, 8, 128),
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: get('MAIL_FROM') ?? 'Loket <no-reply@loket.local>',
    xenditSecretKey,
    xenditBaseUrl: (url('XENDIT_BASE_URL', ['http:', 'https:']) ?? 'https://api.xendit.co').replace(/\/+$/, ''),
    xenditQrApiVersion: oneOf('XENDIT_QR_API_VERSION', ['v1', 'v2'] as const, 'v2'),
    // Without Xendit the simulator signs its own callbacks with a token derived from the master secret.
    xenditCallbackToken:
      get('XENDIT_CALLBACK_TOKEN') ??
      (xenditSecretKey ? undefined : createHash('sha256').update(`loket:xendit-callback:${secret}`).digest('hex')),
    xenditTimeoutMs: int('XENDIT_TIMEOUT_MS', 10_000, 100, 120_000),
    merchantName: get('PAYMENT_MERCHANT_NAME') ?? 'LOKET',
    merchantCity: get('PAYMENT_MERCHANT_CITY') ?? 'JAKARTA',
    ppobProvider,
    ppobSimulatorDelayMs: int('PPOB_SIMULATOR_DELAY_MS', 2000, 0, 600_000),
    ppobTrxPrefix,
    digiflazzUsername: get('DIGIFLAZZ_USERNAME'),
    digiflazzApiKey: get('DIGIFLAZZ_API_KEY'),
    digiflazzWebhookSecret: get('DIGIFLAZZ_WEBHOOK_SECRET'),
    digiflazzBaseUrl: (url('DIGIFLAZZ_BASE_URL', ['http:', 'https:']) ?? 'https://api.digiflazz.com').replace(
      /\/+$/,
      '',
    ),
    digiflazzTesting: flag('DIGIFLAZZ_TESTING', false),
    ppobProviderTimeoutMs: int('PPOB_PROVIDER_TIMEOUT_MS', 20_000, 100, 120_000),
    ppobDispatchConcurrency: int('PPOB_DISPATCH_CONCURRENCY', 128, 1, 4096),
    im3Provider,
    im3SimulatorStepMs: int('IM3_SIMULATOR_STEP_MS', 1000, 0, 600_000),
    im3EligibilityAttempts: int('IM3_ELIGIBILITY_ATTEMPTS', 5, 1, 100),
    im3EligibilityIntervalMs: int('IM3_ELIGIBILITY_INTERVAL_MS', 3000, 0, 600_000),
    im3PaymentPollMs: int('IM3_PAYMENT_POLL_MS', 5000, 10, 600_000),
    im3PaymentTimeoutMs: int('IM3_PAYMENT_TIMEOUT_MS', 900_000, 1000, 86_400_000),
    im3BaseUrl: url('IM3_BASE_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    im3Authorization: get('IM3_AUTHORIZATION'),
    im3ServiceKey: get('IM3_SERVICE_KEY'),
    im3Rc4Key: get('IM3_RC4_KEY'),
    im3AppOs: get('IM3_APP_OS'),
    im3AppVersion: get('IM3_APP_VERSION'),
    im3Headers,
    im3PaymentStatusPath,
    im3TimeoutMs: int('IM3_TIMEOUT_MS', 15_000, 100, 120_000),
    photoboxAmount: int('PHOTOBOX_AMOUNT', 40_000, 1, 100_000_000),
    photoboxMaxFilesPerUpload: int('PHOTOBOX_MAX_FILES_PER_UPLOAD', 20, 1, 100),
    photoboxMaxPhotosPerTransaction: int('PHOTOBOX_MAX_PHOTOS_PER_TRANSACTION', 50, 1, 1000),
    photoboxGalleryUrl: galleryUrl ?? `${publicUrl}/photobox/gallery/{external_id}`,
    encryptionEnabled,
    encryptionKey,
    encryptionIv,
    storageDir: get('STORAGE_DIR'),
    s3,
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    bodyLimit: int('BODY_LIMIT', 1_048_576, 1024, 1_073_741_824),
    corsOrigins,
    securityHeaders: flag('SECURITY_HEADERS', true),
    trustProxy: flag('TRUST_PROXY', false),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    migrateOnStart: flag('LOKET_MIGRATE_ON_START', true),
    jobPollSeconds: int('JOB_POLL_SECONDS', 1, 1, 60),
    jobSuperviseSeconds: int('JOB_SUPERVISE_SECONDS', 30, 1, 3600),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `.env.example`, generated from VARIABLES. */
export function renderEnvExample(): string {
  const lines = ['# Loket configuration. Every variable is optional in development; see README.md.', ''];
  for (const v of VARIABLES) {
    lines.push(`# ${v.doc} Default: ${v.defaultText}.`);
    lines.push(`# ${v.name}=${v.example ?? ''}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The README's configuration table, generated from VARIABLES. */
export function renderConfigTable(): string {
  const rows = VARIABLES.map((v) => `| \`${v.name}\` | ${v.defaultText} | ${v.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
