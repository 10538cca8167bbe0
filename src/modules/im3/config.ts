// IM3's configuration variables (composed into the Config object by src/config.ts).
import { group, v } from '../../core/config-schema.ts';

const vars = {
  im3Provider: v.enum('IM3_PROVIDER', ['simulator', 'http'], {
    default: 'simulator',
    doc: '`simulator` (OTP to the outbox as SMS; a number ending in 0000 is not eligible) or `http` (the operator API).',
  }),
  im3SimulatorStepMs: v.int('IM3_SIMULATOR_STEP_MS', {
    default: 1000,
    min: 0,
    max: 600_000,
    doc: 'Pause of the IM3 simulator between purchase steps.',
  }),
  im3EligibilityAttempts: v.int('IM3_ELIGIBILITY_ATTEMPTS', {
    default: 5,
    min: 1,
    max: 100,
    doc: 'How often a purchase asks the operator whether the number is eligible before it fails.',
  }),
  im3EligibilityIntervalMs: v.int('IM3_ELIGIBILITY_INTERVAL_MS', {
    default: 3000,
    min: 0,
    max: 600_000,
    doc: 'Pause between two eligibility questions.',
  }),
  im3PaymentPollMs: v.int('IM3_PAYMENT_POLL_MS', {
    default: 5000,
    min: 10,
    max: 600_000,
    doc: 'Pause between two questions whether the payment was made.',
  }),
  im3PaymentTimeoutMs: v.int('IM3_PAYMENT_TIMEOUT_MS', {
    default: 900_000,
    min: 1000,
    max: 86_400_000,
    doc: 'A purchase whose payment is not made within this long after its QR code is FAILED.',
  }),
  im3BaseUrl: v.url('IM3_BASE_URL', {
    protocols: ['http:', 'https:'],
    trimSlash: true,
    doc: 'Base URL of the operator API (`IM3_PROVIDER=http`).',
  }),
  im3Authorization: v.secret('IM3_AUTHORIZATION', {
    doc: 'Value of the `Authorization` header of every operator request (`IM3_PROVIDER=http`).',
  }),
  im3ServiceKey: v.secret('IM3_SERVICE_KEY', {
    doc: 'Value of the `X-Imi-Servicekey` header of every operator request.',
  }),
  im3Rc4Key: v.secret('IM3_RC4_KEY', {
    doc: 'RC4 key of the operator requests whose body is encrypted (the eligibility check).',
  }),
  im3AppOs: v.string('IM3_APP_OS', { doc: 'App OS sent as `X-Imi-App-Os` and signed in `X-Imi-Hash`.' }),
  im3AppVersion: v.string('IM3_APP_VERSION', {
    doc: 'App version sent as `X-Imi-Version` and signed in `X-Imi-Hash`.',
  }),
  /** Further static headers of every operator request (the app's device headers), from IM3_HEADERS. */
  im3Headers: v.custom<Record<string, string>>('IM3_HEADERS', {
    default: {},
    defaultText: '{}',
    secret: true,
    doc: "Further static headers of every operator request, as a JSON object of strings (the app's device headers).",
    parse: (raw, report) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        Array.isArray(parsed) ||
        Object.entries(parsed).some(([k, value]) => typeof value !== 'string' || !/^[A-Za-z0-9-]+$/.test(k))
      ) {
        report('IM3_HEADERS must be a JSON object of header names to strings');
        return {};
      }
      return { ...(parsed as Record<string, string>) };
    },
  }),
  im3PaymentStatusPath: v.string('IM3_PAYMENT_STATUS_PATH', {
    check: (s) => (/^\/[\x21-\x7e]*$/.test(s) ? undefined : 'must start with /'),
    doc: 'Path (under `IM3_BASE_URL`) that answers whether a QRIS payment was made; the original app has no such call.',
  }),
  im3StatusNames: v.enum('IM3_STATUS_NAMES', ['document', 'original'], {
    default: 'document',
    doc: 'Purchase statuses as `document` names them (PENDING … COMPLETED) or as the `original` code did (PENDING, PROCESSING, SUCCESS once the QR code is issued, FAILED), for a client written for the original.',
  }),
  im3ProfileCacheMs: v.int('IM3_PROFILE_CACHE_MS', {
    default: 10_000,
    min: 0,
    max: 300_000,
    doc: "How long an account's IM3 profile is answered again without asking the operator (such reads do not count against the IM3 rate limit); 0 asks every time.",
  }),
  im3TimeoutMs: v.int('IM3_TIMEOUT_MS', {
    default: 15_000,
    min: 100,
    max: 120_000,
    doc: 'Timeout of each call to the operator API.',
  }),
};

/** What `IM3_PROVIDER=http` cannot work without. */
const HTTP_NEEDS = [
  'im3BaseUrl',
  'im3Authorization',
  'im3ServiceKey',
  'im3Rc4Key',
  'im3AppOs',
  'im3AppVersion',
  'im3PaymentStatusPath',
] as const;

export const im3Config = group('IM3', vars, (c, report) => {
  if (c.im3Provider === 'http' && HTTP_NEEDS.some((key) => !c[key])) {
    report(`IM3_PROVIDER=http needs ${HTTP_NEEDS.map((key) => vars[key].name).join(', ')}`);
  }
});
